import type { Kysely } from 'kysely';
import { binaryType, longTextType, type MigrationContext } from '../platform/db/migrator.ts';

export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('mail_outbox')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('tenant_id', 'varchar(64)')
    .addColumn('template', 'varchar(64)', (c) => c.notNull())
    .addColumn('to_index', 'varchar(64)', (c) => c.notNull())
    .addColumn('message', binaryType(ctx), (c) => c.notNull())
    .addColumn('transport', 'varchar(16)', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', longTextType(ctx))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('sent_at', 'bigint')
    .execute();
  await db.schema.createIndex('mail_outbox_created').on('mail_outbox').column('created_at').execute();
  await db.schema.createIndex('mail_outbox_to').on('mail_outbox').column('to_index').execute();
}
