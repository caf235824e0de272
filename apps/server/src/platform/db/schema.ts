/**
 * The database's tables, as Kysely types. Each module declares its own tables by augmenting `Tables` in its
 * repository file (`declare module '../../platform/db/schema.ts' { interface Tables { ... } }`), so the
 * platform never imports modules and a table's type lives beside the only code that may touch it.
 *
 * Portable column conventions (SQLite, PostgreSQL and MySQL alike):
 * - ids are `varchar(64)` strings; tenant-owned tables have a `tenant_id varchar(64)` column and composite keys.
 * - times are epoch milliseconds in `bigint` columns named `*_at` (read back as JS numbers on every dialect).
 * - booleans are `integer` 0/1; JSON is `text` (see `json.ts` helpers in callers); bytes use `binaryType()`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Tables extends PlatformTables {}

export interface PlatformTables {
  jobs: JobsTable;
  job_schedules: JobSchedulesTable;
  system_settings: SystemSettingsTable;
  probe_items: ProbeItemsTable;
}

export interface JobsTable {
  id: string;
  name: string;
  payload: string;
  state: 'pending' | 'running' | 'done' | 'dead';
  /** Set while pending or running: at most one active job per key, across all nodes (unique index). */
  active_key: string | null;
  run_at: number;
  attempts: number;
  max_attempts: number;
  lease_owner: string | null;
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
  finished_at: number | null;
}

export interface JobSchedulesTable {
  name: string;
  interval_ms: number;
  next_run_at: number;
}

export interface SystemSettingsTable {
  key: string;
  value: string;
  updated_at: number;
}

/** A tenant-owned table that exists to prove the tenancy walls (tests, /readyz); holds nothing of value. */
export interface ProbeItemsTable {
  tenant_id: string;
  id: string;
  label: string;
  created_at: number;
}
