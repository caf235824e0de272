/**
 * The licensing tables (migrations 0040_licensing.ts, 0041_licensing_sealed_seats.ts, 0042_licensing_sealed_scim.ts,
 * 0043_licensing_sealed_machines.ts), declared on the platform's `Tables`.
 */
declare module '../../platform/db/schema.ts' {
  interface Tables {
    license_policies: LicensePoliciesTable;
    licenses: LicensesTable;
    license_assignments: LicenseSeatsTable;
    license_devices: LicenseDevicesTable;
    scim_credentials: ScimCredentialsTable;
    license_scim_users: LicenseScimUsersTable;
    license_scim_groups: LicenseScimGroupsTable;
  }
}

export type SeatModel = 'named' | 'floating';
/** What happens past a limit (seats, machines): refuse, or allow up to a factor of it. */
export type OverageStrategy = 'reject' | 'allow_1_25x' | 'allow_2x';
export type LicenseStatus = 'active' | 'suspended' | 'expired';
export type SeatStatus = 'active' | 'deactivated';
export type SeatSource = 'portal' | 'csv' | 'scim' | 'operator';

/** Platform-wide (the vendor's), not tenant-owned. */
export interface LicensePoliciesTable {
  id: string;
  name: string;
  duration_days: number | null;
  seat_model: SeatModel;
  max_machines_per_user: number | null;
  overage: OverageStrategy;
  heartbeat_interval_s: number;
  offline_grace_s: number;
  created_at: number;
}

export interface LicensesTable {
  tenant_id: string;
  id: string;
  key: string;
  policy_id: string;
  /** JSON array of product ids. */
  products: string;
  seats: number;
  status: LicenseStatus;
  expires_at: number | null;
  created_at: number;
  updated_at: number;
}

/** Table `license_assignments`: one seat per (licence, email). */
export interface LicenseSeatsTable {
  tenant_id: string;
  id: string;
  license_id: string;
  /** The lower-cased email's blind index under the platform's index key (`seatHolder` in personal-data.ts). */
  email_index: string;
  /** The lower-cased email, sealed with the org's data key. */
  email_sealed: Uint8Array;
  status: SeatStatus;
  source: SeatSource;
  assigned_at: number;
  updated_at: number;
}

/**
 * Table `license_devices`: a machine activation. The holder is named by the seat's email index only (no email is
 * kept); the fingerprint is found by its blind index (the org's index key) and kept sealed, like the machine's name.
 */
export interface LicenseDevicesTable {
  tenant_id: string;
  id: string;
  license_id: string;
  email_index: string;
  fingerprint_index: string;
  fingerprint_sealed: Uint8Array;
  name_sealed: Uint8Array | null;
  created_at: number;
  last_heartbeat_at: number;
}

export interface ScimCredentialsTable {
  tenant_id: string;
  id: string;
  /** hex SHA-256 of the bearer secret; the secret itself is shown once and never stored. */
  secret_hash: string;
  license_id: string;
  created_at: number;
  last_used_at: number | null;
}

/** Table `license_scim_users`: the record's personal data is one sealed JSON value (`SealedScimUser`, scim-repo.ts). */
export interface LicenseScimUsersTable {
  tenant_id: string;
  id: string;
  license_id: string;
  /** Blind index (org's index key) of the NFC, lower-cased userName (SCIM: userName is not case-exact). */
  user_name_index: string;
  external_id_index: string | null;
  active: number;
  record_sealed: Uint8Array;
  created_at: number;
  updated_at: number;
}

/** Table `license_scim_groups`: the name and members are one sealed JSON value. */
export interface LicenseScimGroupsTable {
  tenant_id: string;
  id: string;
  display_name_index: string;
  record_sealed: Uint8Array;
  created_at: number;
  updated_at: number;
}

/** A SCIM user as the module sees it, opened (scim-repo.ts). */
export interface ScimUsersTable {
  tenant_id: string;
  id: string;
  license_id: string;
  user_name: string;
  /** The email whose seat this user holds (the primary email, else the userName). */
  seat_email: string;
  external_id: string | null;
  active: number;
  /** The SCIM resource as JSON (name, emails, ...), as the IdP last sent it. */
  resource: string;
  created_at: number;
  updated_at: number;
}

/** A SCIM group as the module sees it, opened (scim-repo.ts). */
export interface ScimGroupsTable {
  tenant_id: string;
  id: string;
  display_name: string;
  external_id: string | null;
  /** JSON array of {value, display?}. */
  members: string;
  created_at: number;
  updated_at: number;
}
