/**
 * Migrations: one ordered folder (apps/server/src/migrations, `NNNN_name.ts`; `.js` compiled), written once
 * with Kysely's schema builder. Run at start and by `canopy migrate`. Kysely's migrator takes a lock (advisory
 * lock on PostgreSQL, GET_LOCK on MySQL, the single writer on SQLite), so nodes starting at once migrate once.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Migrator, sql, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import { moduleExtension } from '../module-form.ts';
import type { Database, DialectName } from './connect.ts';

export interface MigrationContext {
  dialect: DialectName;
}

/** What a migration file exports. `db` is untyped on purpose: a migration must not depend on today's types. */
export interface MigrationModule {
  up: (db: Kysely<unknown>, ctx: MigrationContext) => Promise<void>;
  down?: (db: Kysely<unknown>, ctx: MigrationContext) => Promise<void>;
}

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');

/** A migration's file name: `NNNN_name` and the extension of this module's form (its name is `NNNN_name`). */
const MIGRATION_FILE = new RegExp(`^\\d{4}_[a-z0-9_]+\\${moduleExtension(import.meta.url)}$`);

async function loadMigrations(dir: string, ctx: MigrationContext): Promise<Record<string, Migration>> {
  const files = readdirSync(dir)
    .filter((f) => MIGRATION_FILE.test(f))
    .sort();
  const out: Record<string, Migration> = {};
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as MigrationModule;
    const migration: Migration = { up: (db) => mod.up(db, ctx) };
    const down = mod.down;
    if (down) migration.down = (db) => down(db, ctx);
    out[file.replace(/\.[jt]s$/, '')] = migration;
  }
  return out;
}

export async function migrateToLatest(database: Database, dir = MIGRATIONS_DIR): Promise<MigrationResultSet> {
  const ctx: MigrationContext = { dialect: database.dialect };
  const migrations = await loadMigrations(dir, ctx);
  const migrator = new Migrator({
    db: database.db,
    provider: { getMigrations: async () => migrations },
    // Modules own number ranges (0010-0019 crypto, 0020-0029 identity, ...), so a module may add a migration
    // below one that a database already has: it still runs, once, under the same lock.
    allowUnorderedMigrations: true,
  });
  const result = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    const reason = result.error instanceof Error ? result.error.message : JSON.stringify(result.error);
    throw new Error(`migration ${failed} failed: ${reason}`, { cause: result.error });
  }
  return result;
}

/** The column type for bytes on each dialect. */
export function binaryType(ctx: MigrationContext) {
  return ctx.dialect === 'postgres' ? sql`bytea` : ctx.dialect === 'mysql' ? sql`longblob` : sql`blob`;
}

/** The column type for long text (MySQL's `text` stops at 64 KiB). */
export function longTextType(ctx: MigrationContext) {
  return ctx.dialect === 'mysql' ? sql`longtext` : sql`text`;
}

/**
 * Row-level security for a tenant-owned table on PostgreSQL: rows are visible and writable only when the
 * transaction's `canopy.tenant_id` matches (or a named system context is set). FORCE applies it to the table
 * owner too, so the app's own role cannot bypass it; only superusers and BYPASSRLS roles can, and the server
 * warns at start when it connects as one of those. A no-op on the other dialects, where repositories are the wall.
 */
export async function enableTenantRowSecurity(db: Kysely<unknown>, ctx: MigrationContext, table: string) {
  if (ctx.dialect !== 'postgres') return;
  const t = sql.table(table);
  await sql`alter table ${t} enable row level security`.execute(db);
  await sql`alter table ${t} force row level security`.execute(db);
  await sql`create policy tenant_isolation on ${t}
    using (tenant_id = current_setting('canopy.tenant_id', true) or current_setting('canopy.system', true) = 'on')
    with check (tenant_id = current_setting('canopy.tenant_id', true) or current_setting('canopy.system', true) = 'on')`.execute(
    db,
  );
}
