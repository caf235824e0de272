import { sql, type Kysely } from 'kysely';
import { binaryType, enableTenantRowSecurity, type MigrationContext } from '../platform/db/migrator.ts';

/**
 * Licensing: machine activations without clear fingerprints or machine names. A fingerprint identifies one
 * person's device; the new table keeps it sealed with the org's data key and found by a blind index keyed by the
 * org's index key (the activation is always looked up inside its licence's org, so unlike the seat email no
 * cross-org index is needed), and the machine name sealed too. A migration has no keys: it creates the table and
 * leaves a mark; the licensing module, at start, seals the old table's rows into it in batches and drops the old
 * table (modules/licensing/clear-rows.ts).
 */
export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  const bytes = binaryType(ctx);
  await db.schema
    .createTable('license_devices')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('id', 'varchar(64)', (c) => c.notNull())
    .addColumn('license_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('email_index', 'varchar(64)', (c) => c.notNull())
    .addColumn('fingerprint_index', 'varchar(64)', (c) => c.notNull())
    .addColumn('fingerprint_sealed', bytes, (c) => c.notNull())
    .addColumn('name_sealed', bytes)
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_heartbeat_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('license_devices_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema
    .createIndex('license_devices_machine')
    .on('license_devices')
    .columns(['tenant_id', 'license_id', 'email_index', 'fingerprint_index'])
    .unique()
    .execute();
  await db.schema
    .createIndex('license_devices_heartbeat')
    .on('license_devices')
    .column('last_heartbeat_at')
    .execute();
  await enableTenantRowSecurity(db, ctx, 'license_devices');

  await sql`insert into system_settings (${sql.ref('key')}, ${sql.ref('value')}, updated_at)
    values ('licensing.clear_machines_pending', '0043', 0)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from system_settings where ${sql.ref('key')} = 'licensing.clear_machines_pending'`.execute(
    db,
  );
  await db.schema.dropTable('license_devices').ifExists().execute();
}
