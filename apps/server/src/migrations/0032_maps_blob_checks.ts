import type { Kysely } from 'kysely';
import { enableTenantRowSecurity, type MigrationContext } from '../platform/db/migrator.ts';

/**
 * Maps: what the daily blob sweep last read of a map in full (its log's head and a digest of its blobs' keys), so
 * that a map unchanged since is not loaded again (modules/maps/blob-sweep.ts). Holds no content.
 */
export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('map_blob_checks')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('map_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('head_seq', 'bigint', (c) => c.notNull())
    .addColumn('blobs', 'varchar(64)', (c) => c.notNull())
    .addColumn('checked_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('map_blob_checks_pk', ['tenant_id', 'map_id'])
    .addForeignKeyConstraint(
      'map_blob_checks_map_fk',
      ['tenant_id', 'map_id'],
      'maps',
      ['tenant_id', 'id'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();
  await enableTenantRowSecurity(db, ctx, 'map_blob_checks');
}
