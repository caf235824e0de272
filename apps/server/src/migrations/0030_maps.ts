import type { Kysely } from 'kysely';
import { binaryType, enableTenantRowSecurity, type MigrationContext } from '../platform/db/migrator.ts';

/**
 * Maps (modules/maps): the map row with its compacted snapshot, the durable update log that co-editing appends
 * to, shares and named versions; and the collab module's single-use tickets. Content columns are sealed bytes.
 */
export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('maps')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('id', 'varchar(64)', (c) => c.notNull())
    .addColumn('title', 'varchar(1000)', (c) => c.notNull())
    .addColumn('owner_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('snapshot', binaryType(ctx), (c) => c.notNull())
    .addColumn('snapshot_seq', 'bigint', (c) => c.notNull())
    .addColumn('head_seq', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('maps_pk', ['tenant_id', 'id'])
    .execute();
  await enableTenantRowSecurity(db, ctx, 'maps');

  // One row per acknowledged update: (tenant, map, seq) is dense from snapshot_seq + 1 to head_seq.
  await db.schema
    .createTable('map_updates')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('map_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('data', binaryType(ctx), (c) => c.notNull())
    .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('map_updates_pk', ['tenant_id', 'map_id', 'seq'])
    .addForeignKeyConstraint(
      'map_updates_map_fk',
      ['tenant_id', 'map_id'],
      'maps',
      ['tenant_id', 'id'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();
  await enableTenantRowSecurity(db, ctx, 'map_updates');

  await db.schema
    .createTable('map_shares')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('map_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('role', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('map_shares_pk', ['tenant_id', 'map_id', 'account_id'])
    .addForeignKeyConstraint(
      'map_shares_map_fk',
      ['tenant_id', 'map_id'],
      'maps',
      ['tenant_id', 'id'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();
  await db.schema
    .createIndex('map_shares_account')
    .on('map_shares')
    .columns(['tenant_id', 'account_id'])
    .execute();
  await enableTenantRowSecurity(db, ctx, 'map_shares');

  await db.schema
    .createTable('map_versions')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('id', 'varchar(64)', (c) => c.notNull())
    .addColumn('map_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('snapshot', binaryType(ctx), (c) => c.notNull())
    .addColumn('created_by', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('map_versions_pk', ['tenant_id', 'id'])
    .addForeignKeyConstraint(
      'map_versions_map_fk',
      ['tenant_id', 'map_id'],
      'maps',
      ['tenant_id', 'id'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();
  await db.schema
    .createIndex('map_versions_map')
    .on('map_versions')
    .columns(['tenant_id', 'map_id'])
    .execute();
  await enableTenantRowSecurity(db, ctx, 'map_versions');

  // Looked up by the ticket's hash before the tenant is known, so not tenant-scoped (no RLS); holds no content.
  await db.schema
    .createTable('collab_tickets')
    .addColumn('ticket_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('map_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('collab_tickets_expiry').on('collab_tickets').column('expires_at').execute();
}
