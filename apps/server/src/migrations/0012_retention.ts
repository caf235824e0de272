import type { Kysely } from 'kysely';
import { longTextType, type MigrationContext } from '../platform/db/migrator.ts';

export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('retention_runs')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('policy', 'varchar(128)', (c) => c.notNull())
    .addColumn('cutoff', 'bigint', (c) => c.notNull())
    .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('error', longTextType(ctx))
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('retention_runs_policy')
    .on('retention_runs')
    .columns(['policy', 'started_at'])
    .execute();
}
