/**
 * Opens the SQL database named by a URL: `sqlite:<path>` (embedded default, WAL), `postgres://...` or
 * `mysql://...` (also `mariadb://`). One Kysely instance per process; the dialect name travels with it because
 * migrations and a few queries differ per dialect.
 */
import { Kysely, MysqlDialect, PostgresDialect, sql } from 'kysely';
import { mysqlDriver, pgDriver } from '../drivers.ts';
import type { Tables } from './schema.ts';
import { isInMemorySqlite, openSqliteConnection } from './sqlite.ts';
import { ImmediateSqliteDialect } from './sqlite-dialect.ts';
import { ProcedureHost, type ProcedureModule, type Procedures } from './sqlite-procedures.ts';
import { WalCheckpointer } from './wal-checkpointer.ts';
import { WalSync, type SyncFile } from './wal-sync.ts';

export type DialectName = 'sqlite' | 'postgres' | 'mysql';

export interface Database {
  readonly db: Kysely<Tables>;
  readonly dialect: DialectName;
  /** Reachability check for /readyz. */
  ping(): Promise<void>;
  /** Connection pool counts for metrics, where the driver exposes them. */
  poolStats(): { total: number; idle: number; waiting: number } | undefined;
  /** SQLite only: hot transactions as prepared procedures (sqlite-procedures.ts). */
  readonly sqlite?: SqliteProcedures;
  close(): Promise<void>;
}

export interface SqliteProcedures {
  /** The host of `module` (one per module and database). */
  host<P extends Procedures>(module: ProcedureModule<P>): ProcedureHost<P>;
  /**
   * Resolves once everything committed before the call is on disk (`WalSync`, off the event loop): for
   * transactions committed with `synchronous=NORMAL`, such as the collab log's (`appendRelayed`).
   */
  syncWal(): Promise<void>;
}

export function dialectOf(url: string): DialectName {
  if (url.startsWith('sqlite:')) return 'sqlite';
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return 'postgres';
  if (url.startsWith('mysql://') || url.startsWith('mariadb://')) return 'mysql';
  throw new Error(`unsupported database URL scheme: ${url.split(':')[0] ?? ''}`);
}

export function openDatabase(
  url: string,
  options: {
    poolSize?: number;
    /** SQLite only: MiB of the connection's page cache (`SQLITE_CACHE_MIB` by default). */
    sqliteCacheMiB?: number;
    /** SQLite only, for tests: stands in for `fs.fdatasync` when the WAL is synced (`syncWal`). */
    syncFile?: SyncFile;
    /** SQLite only: the WAL's checkpoint thread failed (the connection then checkpoints by itself). */
    onCheckpointError?: (err: Error) => void;
    /** SQLite only: when the checkpoint thread starts (`WalCheckpointerOptions.startAfterMs`; default 1 s). */
    checkpointAfterMs?: number;
  } = {},
): Database {
  const dialect = dialectOf(url);
  const poolSize = options.poolSize ?? 10;
  if (dialect === 'sqlite') {
    const file = url.slice('sqlite:'.length);
    // WAL, synchronous=FULL (a committed transaction survives power loss); the collab log's append commits with
    // NORMAL and syncs the WAL itself, off the event loop, before it acknowledges (`syncWal`).
    const raw = openSqliteConnection(file, options.sqliteCacheMiB);
    const db = new Kysely<Tables>({ dialect: new ImmediateSqliteDialect(raw) });
    const hosts = new Map<object, unknown>();
    const queued = { count: 0 };
    const wal = new WalSync(isInMemorySqlite(file) ? undefined : `${file}-wal`, options.syncFile);
    // Checkpoints off the event loop (wal-checkpointer.ts); an in-memory database has no WAL.
    const checkpointer = isInMemorySqlite(file)
      ? undefined
      : new WalCheckpointer(file, raw, {
          onError: options.onCheckpointError,
          startAfterMs: options.checkpointAfterMs,
        });
    const sqlite: SqliteProcedures = {
      host<P extends Procedures>(module: ProcedureModule<P>): ProcedureHost<P> {
        let host = hosts.get(module) as ProcedureHost<P> | undefined;
        if (!host) {
          host = new ProcedureHost(raw, module, (fn) => db.connection().execute(async () => fn()), queued);
          hosts.set(module, host);
        }
        return host;
      },
      syncWal: () => wal.sync(),
    };
    return {
      db,
      dialect,
      sqlite,
      ping: async () => {
        // After a failed WAL sync nothing written since can be acknowledged (co-editing stops): not ready.
        if (wal.failed) throw wal.failed;
        await sql`select 1`.execute(db);
      },
      poolStats: () => undefined,
      close: async () => {
        hosts.clear();
        await checkpointer?.close();
        await wal.close();
        await db.destroy();
      },
    };
  }
  if (dialect === 'postgres') {
    const pg = pgDriver();
    // int8 (bigint) columns hold epoch milliseconds and counters that fit in 2^53; read them as numbers.
    pg.types.setTypeParser(20, (v: string) => Number(v));
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
  const pool = mysqlDriver().createPool({
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
