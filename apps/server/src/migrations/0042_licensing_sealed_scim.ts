import { sql, type Kysely } from 'kysely';
import { binaryType, enableTenantRowSecurity, type MigrationContext } from '../platform/db/migrator.ts';

/**
 * Licensing: SCIM users and groups without clear personal data. Each record (userName, emails, names,
 * externalId, the seat's email; a group's name and members) is one value sealed with the org's data key;
 * `userName`, `externalId` and `displayName` filters go by blind indexes under the org's index key. As in
 * 0041, the licensing module seals the old tables' rows at start and then drops them (clear-rows.ts).
 */
export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  const bytes = binaryType(ctx);
  await db.schema
    .createTable('license_scim_users')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('id', 'varchar(64)', (c) => c.notNull())
    .addColumn('license_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('user_name_index', 'varchar(64)', (c) => c.notNull())
    .addColumn('external_id_index', 'varchar(64)')
    .addColumn('active', 'integer', (c) => c.notNull())
    .addColumn('record_sealed', bytes, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('license_scim_users_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema
    .createIndex('license_scim_users_user_name')
    .on('license_scim_users')
    .columns(['tenant_id', 'user_name_index'])
    .unique()
    .execute();
  await enableTenantRowSecurity(db, ctx, 'license_scim_users');

  await db.schema
    .createTable('license_scim_groups')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('id', 'varchar(64)', (c) => c.notNull())
    .addColumn('display_name_index', 'varchar(64)', (c) => c.notNull())
    .addColumn('record_sealed', bytes, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('license_scim_groups_pk', ['tenant_id', 'id'])
    .execute();
  await enableTenantRowSecurity(db, ctx, 'license_scim_groups');

  await sql`insert into system_settings (${sql.ref('key')}, ${sql.ref('value')}, updated_at)
    values ('licensing.clear_scim_pending', '0042', 0)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from system_settings where ${sql.ref('key')} = 'licensing.clear_scim_pending'`.execute(db);
  await db.schema.dropTable('license_scim_groups').ifExists().execute();
  await db.schema.dropTable('license_scim_users').ifExists().execute();
}
