/** The retention run log (migration 0012_retention.ts). */
declare module '../db/schema.ts' {
  interface Tables {
    retention_runs: RetentionRunsTable;
  }
}

/** One purge run of one policy: the cutoff it used and how many rows it removed. */
export interface RetentionRunsTable {
  id: string;
  policy: string;
  cutoff: number;
  deleted: number;
  state: 'running' | 'done' | 'failed';
  error: string | null;
  started_at: number;
  finished_at: number | null;
}
