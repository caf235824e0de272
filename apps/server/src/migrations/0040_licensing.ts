import { sql, type Kysely } from 'kysely';
import { enableTenantRowSecurity, longTextType, type MigrationContext } from '../platform/db/migrator.ts';

/** Licensing (modules/licensing): policies (platform-wide), licences, seats, activations, SCIM. */
export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('license_policies')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(128)', (c) => c.notNull())
    .addColumn('duration_days', 'integer')
    .addColumn('seat_model', 'varchar(16)', (c) => c.notNull())
    .addColumn('max_machines_per_user', 'integer')
    .addColumn('overage', 'varchar(16)', (c) => c.notNull())
    .addColumn('heartbeat_interval_s', 'integer', (c) => c.notNull())
    .addColumn('offline_grace_s', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  // The default policy: named users, a year, three machines each, one missed hourly heartbeat, a week offline.
  await sql`insert into license_policies
    (id, name, duration_days, seat_model, max_machines_per_user, overage, heartbeat_interval_s, offline_grace_s, created_at)
    values ('standard', 'Standard (named users, 3 machines each)', 365, 'named', 3, 'reject', 3600, 604800, 0)`.execute(
    db,
  );

  await db.schema
    .createTable('licenses')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('id', 'varchar(64)', (c) => c.notNull())
    .addColumn('key', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('policy_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('products', 'text', (c) => c.notNull())
    .addColumn('seats', 'integer', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('licenses_pk', ['tenant_id', 'id'])
    .execute();
  await enableTenantRowSecurity(db, ctx, 'licenses');

  await db.schema
    .createTable('license_seats')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('license_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('email', 'varchar(320)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('source', 'varchar(16)', (c) => c.notNull())
    .addColumn('assigned_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('license_seats_pk', ['tenant_id', 'license_id', 'email'])
    .execute();
  // The validation route finds a caller's seats in every org by email.
  await db.schema.createIndex('license_seats_email').on('license_seats').column('email').execute();
  await enableTenantRowSecurity(db, ctx, 'license_seats');

  await db.schema
    .createTable('license_activations')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('id', 'varchar(64)', (c) => c.notNull())
    .addColumn('license_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('email', 'varchar(320)', (c) => c.notNull())
    .addColumn('fingerprint', 'varchar(200)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_heartbeat_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('license_activations_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema
    .createIndex('license_activations_machine')
    .on('license_activations')
    .columns(['tenant_id', 'license_id', 'email', 'fingerprint'])
    .unique()
    .execute();
  await db.schema
    .createIndex('license_activations_heartbeat')
    .on('license_activations')
    .column('last_heartbeat_at')
    .execute();
  await enableTenantRowSecurity(db, ctx, 'license_activations');

  await db.schema
    .createTable('scim_credentials')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('id', 'varchar(64)', (c) => c.notNull())
    .addColumn('secret_hash', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('license_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addPrimaryKeyConstraint('scim_credentials_pk', ['tenant_id', 'id'])
    .execute();
  await enableTenantRowSecurity(db, ctx, 'scim_credentials');

  await db.schema
    .createTable('scim_users')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('id', 'varchar(64)', (c) => c.notNull())
    .addColumn('license_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('user_name', 'varchar(320)', (c) => c.notNull())
    .addColumn('seat_email', 'varchar(320)', (c) => c.notNull())
    .addColumn('external_id', 'varchar(255)')
    .addColumn('active', 'integer', (c) => c.notNull())
    .addColumn('resource', longTextType(ctx), (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('scim_users_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema
    .createIndex('scim_users_user_name')
    .on('scim_users')
    .columns(['tenant_id', 'user_name'])
    .unique()
    .execute();
  await enableTenantRowSecurity(db, ctx, 'scim_users');

  await db.schema
    .createTable('scim_groups')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('id', 'varchar(64)', (c) => c.notNull())
    .addColumn('display_name', 'varchar(255)', (c) => c.notNull())
    .addColumn('external_id', 'varchar(255)')
    .addColumn('members', longTextType(ctx), (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('scim_groups_pk', ['tenant_id', 'id'])
    .execute();
  await enableTenantRowSecurity(db, ctx, 'scim_groups');
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of [
    'scim_groups',
    'scim_users',
    'scim_credentials',
    'license_activations',
    'license_seats',
    'licenses',
    'license_policies',
  ]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
