import { sql, type Kysely } from 'kysely';
import { binaryType, enableTenantRowSecurity, type MigrationContext } from '../platform/db/migrator.ts';

/**
 * Licensing: seat assignments and machine activations without clear emails. The new tables hold the email
 * sealed with the org's data key (seats only) and a blind index keyed by the platform's index key, which the
 * validation route reads across every org. A migration has no keys, so it only creates the tables and leaves
 * a mark; the licensing module, at start, seals the old tables' rows into the new ones in batches and then
 * drops the old tables (modules/licensing/clear-rows.ts).
 */
export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  const bytes = binaryType(ctx);
  await db.schema
    .createTable('license_assignments')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('id', 'varchar(64)', (c) => c.notNull())
    .addColumn('license_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('email_index', 'varchar(64)', (c) => c.notNull())
    .addColumn('email_sealed', bytes, (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('source', 'varchar(16)', (c) => c.notNull())
    .addColumn('assigned_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('license_assignments_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema
    .createIndex('license_assignments_holder')
    .on('license_assignments')
    .columns(['tenant_id', 'license_id', 'email_index'])
    .unique()
    .execute();
  // The validation route finds a caller's seats in every org by the email's index.
  await db.schema
    .createIndex('license_assignments_email_index')
    .on('license_assignments')
    .column('email_index')
    .execute();
  await enableTenantRowSecurity(db, ctx, 'license_assignments');

  await db.schema
    .createTable('license_machines')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('id', 'varchar(64)', (c) => c.notNull())
    .addColumn('license_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('email_index', 'varchar(64)', (c) => c.notNull())
    .addColumn('fingerprint', 'varchar(200)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_heartbeat_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('license_machines_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema
    .createIndex('license_machines_machine')
    .on('license_machines')
    .columns(['tenant_id', 'license_id', 'email_index', 'fingerprint'])
    .unique()
    .execute();
  await db.schema
    .createIndex('license_machines_heartbeat')
    .on('license_machines')
    .column('last_heartbeat_at')
    .execute();
  await enableTenantRowSecurity(db, ctx, 'license_machines');

  await sql`insert into system_settings (${sql.ref('key')}, ${sql.ref('value')}, updated_at)
    values ('licensing.clear_rows_pending', '0041', 0)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from system_settings where ${sql.ref('key')} = 'licensing.clear_rows_pending'`.execute(db);
  await db.schema.dropTable('license_machines').ifExists().execute();
  await db.schema.dropTable('license_assignments').ifExists().execute();
}
