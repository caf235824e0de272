import type { Kysely } from 'kysely';
import {
  binaryType,
  enableTenantRowSecurity,
  longTextType,
  type MigrationContext,
} from '../platform/db/migrator.ts';

/** The identity module's tables (modules/identity/README.md). */
export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  const bytes = binaryType(ctx);

  // Global: an account belongs to several orgs. `tenant_id` is its personal org, whose data key seals its
  // personal data (so deleting the account can crypto-shred it); lookups go by the blind index `email_index`.
  await db.schema
    .createTable('accounts')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('email_index', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('email_sealed', bytes, (c) => c.notNull())
    .addColumn('first_name_sealed', bytes, (c) => c.notNull())
    .addColumn('last_name_sealed', bytes, (c) => c.notNull())
    .addColumn('email_verified_at', 'bigint')
    .addColumn('password_hash', 'varchar(255)')
    .addColumn('srp_salt', 'varchar(64)')
    .addColumn('srp_verifier_sealed', bytes)
    .addColumn('totp_secret_sealed', bytes)
    .addColumn('totp_pending_sealed', bytes)
    .addColumn('totp_enabled_at', 'bigint')
    .addColumn('totp_last_step', 'bigint')
    .addColumn('operator', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('orgs')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('name_sealed', bytes, (c) => c.notNull())
    .addColumn('personal', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_by', 'varchar(64)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await enableTenantRowSecurity(db, ctx, 'orgs');

  await db.schema
    .createTable('memberships')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('role', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('memberships_pk', ['tenant_id', 'account_id'])
    .execute();
  await db.schema.createIndex('memberships_account').on('memberships').column('account_id').execute();
  await enableTenantRowSecurity(db, ctx, 'memberships');

  await db.schema
    .createTable('invitations')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('id', 'varchar(64)', (c) => c.notNull())
    .addColumn('email_sealed', bytes, (c) => c.notNull())
    .addColumn('role', 'varchar(16)', (c) => c.notNull())
    .addColumn('token_hash', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('invited_by', 'varchar(64)', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('accepted_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('invitations_pk', ['tenant_id', 'id'])
    .execute();
  await enableTenantRowSecurity(db, ctx, 'invitations');

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('token_hash', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('method', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('authenticated_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_account').on('sessions').column('account_id').execute();

  await db.schema
    .createTable('account_tokens')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('token_hash', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('account_id', 'varchar(64)')
    .addColumn('purpose', 'varchar(32)', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('account_tokens_account')
    .on('account_tokens')
    .columns(['account_id', 'purpose'])
    .execute();

  await db.schema
    .createTable('srp_challenges')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('account_id', 'varchar(64)')
    .addColumn('state_sealed', bytes, (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('srp_challenges_expiry').on('srp_challenges').column('expires_at').execute();

  await db.schema
    .createTable('recovery_codes')
    .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('code_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('recovery_codes_pk', ['account_id', 'code_hash'])
    .execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('id', 'varchar(64)', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('actor_id', 'varchar(64)')
    .addColumn('action', 'varchar(64)', (c) => c.notNull())
    .addColumn('subject_id', 'varchar(64)')
    .addColumn('detail', longTextType(ctx))
    .addColumn('ip_sealed', bytes)
    .addPrimaryKeyConstraint('audit_events_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema.createIndex('audit_events_at').on('audit_events').columns(['tenant_id', 'at']).execute();
  await db.schema.createIndex('audit_events_purge').on('audit_events').column('at').execute();
  await enableTenantRowSecurity(db, ctx, 'audit_events');
}
