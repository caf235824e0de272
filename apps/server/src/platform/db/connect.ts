/**
 * Opens the SQL database named by a URL: `sqlite:<path>` (embedded default, WAL), `postgres://...` or
 * `mysql://...` (also `mariadb://`). One Kysely instance per process; the dialect name travels with it because
 * migrations and a few queries differ per dialect.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { createPool } from 'mysql2';
import type { Tables } from './schema.ts';

export type DialectName = 'sqlite' | 'postgres' | 'mysql';

export interface Database {
  readonly db: Kysely<Tables>;
  readonly dialect: DialectName;
  /** Reachability check for /readyz. */
  ping(): Promise<void>;
  /** Connection pool counts for metrics, where the driver exposes them. */
  poolStats(): { total: number; idle: number; waiting: number } | undefined;
  close(): Promise<void>;
}

export function dialectOf(url: string): DialectName {
  if (url.startsWith('sqlite:')) return 'sqlite';
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return 'postgres';
  if (url.startsWith('mysql://') || url.startsWith('mariadb://')) return 'mysql';
  throw new Error(`unsupported database URL scheme: ${url.split(':')[0] ?? ''}`);
}

// int8 (bigint) columns hold epoch milliseconds and counters that fit in 2^53; read them as numbers.
pg.types.setTypeParser(20, (v: string) => Number(v));

export function openDatabase(url: string, options: { poolSize?: number } = {}): Database {
  const dialect = dialectOf(url);
  const poolSize = options.poolSize ?? 10;
  if (dialect === 'sqlite') {
    const file = url.slice('sqlite:'.length);
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const raw = new SQLite(file);
    raw.pragma('journal_mode = WAL');
    // FULL: a committed transaction survives power loss, which the collab log's acknowledgements rely on.
    raw.pragma('synchronous = FULL');
    raw.pragma('foreign_keys = ON');
    raw.pragma('busy_timeout = 5000');
    const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: raw }) });
    return {
      db,
      dialect,
      ping: async () => void (await sql`select 1`.execute(db)),
      poolStats: () => undefined,
      close: () => db.destroy(),
    };
  }
  if (dialect === 'postgres') {
    const pool = new pg.Pool({ connectionString: url, max: poolSize });
    const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      dialect,
      ping: async () => void (await sql`select 1`.execute(db)),
      poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
      close: () => db.destroy(),
    };
  }
  const mysqlUrl = url.replace(/^mariadb:/, 'mysql:');
  const pool = createPool({
    uri: mysqlUrl,
    connectionLimit: poolSize,
    // Keep bigints as numbers (they hold epoch ms) and read DATETIMEs as strings; we store neither as Date.
    supportBigNumbers: true,
    bigNumberStrings: false,
    timezone: 'Z',
  });
  const db = new Kysely<Tables>({ dialect: new MysqlDialect({ pool }) });
  return {
    db,
    dialect,
    ping: async () => void (await sql`select 1`.execute(db)),
    poolStats: () => undefined,
    close: () => db.destroy(),
  };
}
