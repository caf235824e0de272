import type { Kysely } from 'kysely';
import { binaryType, enableTenantRowSecurity, type MigrationContext } from '../platform/db/migrator.ts';

export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('tenant_data_keys')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('purpose', 'varchar(16)', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('wrapped_key', binaryType(ctx))
    .addColumn('kek_version', 'integer', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('retired_at', 'bigint')
    .addPrimaryKeyConstraint('tenant_data_keys_pk', ['tenant_id', 'purpose', 'version'])
    .execute();
  await db.schema.createIndex('tenant_data_keys_kek').on('tenant_data_keys').column('kek_version').execute();
  await enableTenantRowSecurity(db, ctx, 'tenant_data_keys');

  await db.schema
    .createTable('crypto_rotations')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('tenant_id', 'varchar(64)')
    .addColumn('from_version', 'integer')
    .addColumn('to_version', 'integer', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('processed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('crypto_rotations_state')
    .on('crypto_rotations')
    .columns(['kind', 'state'])
    .execute();

  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('purpose', 'varchar(32)', (c) => c.notNull())
    .addColumn('algorithm', 'varchar(16)', (c) => c.notNull())
    .addColumn('public_key', 'varchar(255)')
    .addColumn('private_sealed', binaryType(ctx), (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('retired_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('signing_keys_purpose')
    .on('signing_keys')
    .columns(['purpose', 'state'])
    .execute();
}
