/**
 * Test helpers for suites that need encryption: a crypto port over a fresh keyring in a temp dir, and a
 * tenant-owned probe table with a sealed column (created by the test, not by a migration).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { pino } from 'pino';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/connect.ts';
import { binaryType } from '../db/migrator.ts';
import type { JobQueue } from '../jobs/queue.ts';
import { createCrypto, type CryptoOptions, type CryptoPort } from './index.ts';

export interface TestCrypto extends CryptoPort {
  readonly dir: string;
  cleanup(): void;
}

export function createTestCrypto(
  database: Database,
  clock: Clock,
  options: Partial<CryptoOptions> & { jobs?: JobQueue } = {},
): TestCrypto {
  const dir = mkdtempSync(join(tmpdir(), 'canopy-keys-'));
  const port = createCrypto(
    { dataDir: dir, ...options },
    { database, clock, logger: pino({ level: 'silent' }), jobs: options.jobs },
  );
  return { ...port, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ProbeSecretsTable {
  tenant_id: string;
  id: string;
  secret: Buffer | null;
}

/** Creates `table` (tenant_id, id, secret) on the test database and returns a typed handle to it. */
export async function createProbeSecretsTable(
  database: Database,
  table: string,
): Promise<Kysely<Record<string, ProbeSecretsTable>>> {
  const db = database.db as unknown as Kysely<Record<string, ProbeSecretsTable>>;
  await db.schema
    .createTable(table)
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('id', 'varchar(64)', (c) => c.notNull())
    .addColumn('secret', binaryType({ dialect: database.dialect }))
    .addPrimaryKeyConstraint(`${table}_pk`, ['tenant_id', 'id'])
    .execute();
  if (database.dialect === 'postgres') {
    // The same row-level security as real tenant tables, so the re-encryption job is tested against it.
    await sql`alter table ${sql.table(table)} enable row level security`.execute(db);
    await sql`alter table ${sql.table(table)} force row level security`.execute(db);
    await sql`create policy tenant_isolation on ${sql.table(table)}
      using (tenant_id = current_setting('canopy.tenant_id', true) or current_setting('canopy.system', true) = 'on')`.execute(
      db,
    );
  }
  return db;
}
