/** The identity module's tables (migration 0020_identity.ts), as Kysely types. Only this module touches them. */
declare module '../../platform/db/schema.ts' {
  interface Tables {
    accounts: AccountsTable;
    orgs: OrgsTable;
    memberships: MembershipsTable;
    invitations: InvitationsTable;
    sessions: SessionsTable;
    account_tokens: AccountTokensTable;
    srp_challenges: SrpChallengesTable;
    recovery_codes: RecoveryCodesTable;
    audit_events: AuditEventsTable;
  }
}

/**
 * Global (an account belongs to several orgs). `tenant_id` is the account's personal org: its data key seals
 * the `*_sealed` columns, so deleting the account and shredding that key leaves nothing readable.
 */
export interface AccountsTable {
  id: string;
  tenant_id: string;
  /** Blind index of the normalised email under the system tenant's index key: unique, the only lookup. */
  email_index: string;
  email_sealed: Buffer;
  first_name_sealed: Buffer;
  last_name_sealed: Buffer;
  email_verified_at: number | null;
  /** argon2id or bcrypt (`$2b$`, or `$bcrypt-sha256$` for passwords over 72 bytes). */
  password_hash: string | null;
  srp_salt: string | null;
  srp_verifier_sealed: Buffer | null;
  totp_secret_sealed: Buffer | null;
  /** A secret issued by POST /me/mfa/totp and not yet confirmed. */
  totp_pending_sealed: Buffer | null;
  totp_enabled_at: number | null;
  /** The last accepted TOTP time step: a code is accepted once. */
  totp_last_step: number | null;
  operator: number;
  created_at: number;
  updated_at: number;
}

/** One row per org (tenant); `tenant_id` is the org id. */
export interface OrgsTable {
  tenant_id: string;
  name_sealed: Buffer;
  personal: number;
  created_by: string | null;
  created_at: number;
}

export interface MembershipsTable {
  tenant_id: string;
  account_id: string;
  role: 'admin' | 'member';
  created_at: number;
}

export interface InvitationsTable {
  tenant_id: string;
  id: string;
  email_sealed: Buffer;
  role: 'admin' | 'member';
  /** SHA-256 of the token in the invitation link. */
  token_hash: string;
  invited_by: string;
  expires_at: number;
  accepted_at: number | null;
  created_at: number;
}

/** Sessions: only the SHA-256 of the token is stored. */
export interface SessionsTable {
  id: string;
  token_hash: string;
  account_id: string;
  method: 'password' | 'srp' | 'setup';
  created_at: number;
  last_seen_at: number;
  /** When the password (or SRP proof) was last given in this session: login or re-authentication. */
  authenticated_at: number;
  /** Absolute expiry; the idle timeout may end the session earlier. */
  expires_at: number;
}

export type AccountTokenPurpose = 'verify_email' | 'reset_password' | 'operator_setup';

/** Single-use, expiring tokens sent by mail (or printed, for operator setup); only the SHA-256 is stored. */
export interface AccountTokensTable {
  id: string;
  token_hash: string;
  account_id: string | null;
  purpose: AccountTokenPurpose;
  expires_at: number;
  used_at: number | null;
  created_at: number;
}

/** SRP state between start and finish (it holds the secret b and the verifier): sealed, single use. */
export interface SrpChallengesTable {
  id: string;
  account_id: string | null;
  state_sealed: Buffer;
  expires_at: number;
  created_at: number;
}

export interface RecoveryCodesTable {
  account_id: string;
  code_hash: string;
  used_at: number | null;
  created_at: number;
}

/** Security events. `ip_sealed` is set to null 30 days after `at` (the row stays). */
export interface AuditEventsTable {
  tenant_id: string;
  id: string;
  at: number;
  actor_id: string | null;
  action: string;
  subject_id: string | null;
  /** JSON without personal data. */
  detail: string | null;
  ip_sealed: Buffer | null;
}
