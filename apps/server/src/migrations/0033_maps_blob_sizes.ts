import type { Kysely } from 'kysely';
import { enableTenantRowSecurity, type MigrationContext } from '../platform/db/migrator.ts';

/**
 * Maps: the size of each blob a map holds (images and attachments, by digest), so that a tenant's total is one
 * sum against its quota (modules/maps/blob-notes.ts). Written when a blob is stored, deleted with the blob or
 * the map, and set right by the daily sweep against the store's own listing. Holds no content.
 */
export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('map_blob_sizes')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('map_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('blob_hex', 'varchar(64)', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('map_blob_sizes_pk', ['tenant_id', 'map_id', 'blob_hex'])
    .addForeignKeyConstraint(
      'map_blob_sizes_map_fk',
      ['tenant_id', 'map_id'],
      'maps',
      ['tenant_id', 'id'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();
  await enableTenantRowSecurity(db, ctx, 'map_blob_sizes');
}
