/**
 * Test harness: runs a suite once per enabled SQL dialect (`CANOPY_TEST_DIALECTS=sqlite,postgres,mysql`;
 * SQLite alone by default), each on a fresh, migrated database that is dropped afterwards.
 * PostgreSQL tests connect as a role that is neither superuser nor BYPASSRLS, so row-level security is real.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { sql } from 'kysely';
import { openDatabase, type Database, type DialectName } from './connect.ts';
import { migrateToLatest } from './migrator.ts';

export const TEST_POSTGRES_URL =
  process.env.CANOPY_TEST_POSTGRES_URL ?? 'postgres://canopy@127.0.0.1:5432/postgres';
export const TEST_MYSQL_URL = process.env.CANOPY_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

export function dialectsUnderTest(): DialectName[] {
  const raw = process.env.CANOPY_TEST_DIALECTS ?? 'sqlite';
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names) {
    if (n !== 'sqlite' && n !== 'postgres' && n !== 'mysql')
      throw new Error(`CANOPY_TEST_DIALECTS: unknown dialect ${n}`);
  }
  return names as DialectName[];
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty database of the given dialect and returns its URL. */
export async function createTestDatabase(dialect: DialectName): Promise<TestDatabase> {
  const name = `canopy_t_${randomBytes(6).toString('hex')}`;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'canopy-sqlite-'));
    return {
      url: `sqlite:${join(dir, 'test.sqlite')}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const adminUrl = dialect === 'postgres' ? TEST_POSTGRES_URL : TEST_MYSQL_URL;
  const admin = openDatabase(adminUrl, { poolSize: 1 });
  await sql`create database ${sql.id(name)}`.execute(admin.db);
  await admin.close();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const again = openDatabase(adminUrl, { poolSize: 1 });
      try {
        await sql`drop database if exists ${sql.id(name)}`.execute(again.db);
      } finally {
        await again.close();
      }
    },
  };
}

export interface DialectHandle {
  readonly dialect: DialectName;
  readonly url: string;
  /** The migrated database, available inside tests and hooks (after beforeAll). */
  readonly database: Database;
}

/** `describe` once per dialect under test, with a fresh migrated database for the block. */
export function describeEachDialect(title: string, body: (h: DialectHandle) => void): void {
  for (const dialect of dialectsUnderTest()) {
    describe(`${title} [${dialect}]`, () => {
      let database: Database | undefined;
      let testDb: TestDatabase | undefined;
      const handle: DialectHandle = {
        dialect,
        get url() {
          if (!testDb) throw new Error('database not created yet');
          return testDb.url;
        },
        get database() {
          if (!database) throw new Error('database not opened yet (use it inside tests or hooks)');
          return database;
        },
      };
      beforeAll(async () => {
        testDb = await createTestDatabase(dialect);
        database = openDatabase(testDb.url);
        await migrateToLatest(database);
      });
      afterAll(async () => {
        await database?.close();
        await testDb?.drop();
      });
      body(handle);
    });
  }
}
