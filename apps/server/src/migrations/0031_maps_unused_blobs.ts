import type { Kysely } from 'kysely';
import { enableTenantRowSecurity, type MigrationContext } from '../platform/db/migrator.ts';

/**
 * Maps: the blobs (images, attachments) a live map holds and neither its document nor any of its versions uses
 * any more, with when the daily sweep first found them so; it deletes them once that is 30 days ago
 * (modules/maps/blob-sweep.ts). Holds digests of content, no content.
 */
export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('map_blobs_unused')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('map_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('blob_hex', 'varchar(64)', (c) => c.notNull())
    .addColumn('since', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('map_blobs_unused_pk', ['tenant_id', 'map_id', 'blob_hex'])
    .addForeignKeyConstraint(
      'map_blobs_unused_map_fk',
      ['tenant_id', 'map_id'],
      'maps',
      ['tenant_id', 'id'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();
  await enableTenantRowSecurity(db, ctx, 'map_blobs_unused');
}
