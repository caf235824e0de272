/**
 * Retention: rows past their age are invisible at once (read side) and deleted soon after (purge jobs).
 *
 * - Read side: `retention.cutoff(policy)` is the oldest time still visible; repositories add
 *   `where <time column> >= cutoff` (or use `notExpired`), so nothing expired is served even before a purge.
 * - Purge: each policy is a job (`retention.purge:<name>`) on the JobQueue, scheduled (daily by default);
 *   the queue's schedule key keeps one run at a time across all nodes. A run computes its cutoff once from
 *   the injected clock, deletes in batches until a batch comes back short, and is recorded in
 *   `retention_runs` with its cutoff and count. Deleting "older than cutoff" is idempotent: a run that dies
 *   is simply done again by the next one.
 */
import { randomUUID } from 'node:crypto';
import { sql, type ExpressionBuilder, type RawBuilder, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/connect.ts';
import type { Tables } from '../db/schema.ts';
import { withSystemContext } from '../db/tenant.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { RetentionRunsTable } from './tables.ts';
import './tables.ts';

export const DAY_MS = 24 * 3_600_000;

export interface PurgePolicy {
  /** Stable name, e.g. 'identity.audit_ip' or 'mail.outbox'. */
  name: string;
  /** Rows older than this are expired. */
  maxAgeMs: number;
  /** Deletes at most `limit` rows older than `cutoff` (epoch ms); returns how many it deleted. */
  purgeBatch(cutoff: number, limit: number): Promise<number>;
  /** Default 500. */
  batchSize?: number;
  /** How often the purge runs. Default daily. */
  intervalMs?: number;
}

export interface RetentionRun {
  id: string;
  policy: string;
  cutoff: number;
  deleted: number;
  state: RetentionRunsTable['state'];
  error: string | null;
  startedAt: number;
  finishedAt: number | null;
}

export const purgeJobName = (policy: string) => `retention.purge:${policy}`;

export class Retention {
  private readonly policies = new Map<string, PurgePolicy>();

  constructor(private readonly deps: { database: Database; jobs: JobQueue; clock: Clock; logger: Logger }) {}

  /** Registers a policy and defines its job. Call `schedule()` (at start) to have it run periodically. */
  register(policy: PurgePolicy): void {
    if (!/^[a-z0-9_.-]{1,100}$/.test(policy.name))
      throw new Error(`invalid retention policy name: ${policy.name}`);
    if (this.policies.has(policy.name))
      throw new Error(`retention policy ${policy.name} is registered twice`);
    if (!(policy.maxAgeMs > 0)) throw new Error(`retention policy ${policy.name} needs a positive maxAgeMs`);
    this.policies.set(policy.name, policy);
    this.deps.jobs.define(
      purgeJobName(policy.name),
      async (_p, ctx) => void (await this.run(policy.name, () => ctx.extendLease())),
      { maxAttempts: 3, leaseMs: 10 * 60_000 },
    );
  }

  names(): string[] {
    return [...this.policies.keys()];
  }

  private policy(name: string): PurgePolicy {
    const p = this.policies.get(name);
    if (!p) throw new Error(`unknown retention policy ${name}`);
    return p;
  }

  /** The oldest time (epoch ms) a row under this policy may have and still be shown. */
  cutoff(name: string): number {
    return this.deps.clock.now().getTime() - this.policy(name).maxAgeMs;
  }

  /** Schedules every registered policy's purge (idempotent across nodes). */
  async schedule(): Promise<void> {
    for (const p of this.policies.values())
      await this.deps.jobs.schedule(purgeJobName(p.name), p.intervalMs ?? DAY_MS);
  }

  /** Queues a run now; returns false when one is already queued or running (one runner at a time). */
  async runSoon(name: string): Promise<boolean> {
    this.policy(name);
    const job = purgeJobName(name);
    return (await this.deps.jobs.enqueue(job, {}, { key: `schedule:${job}` })) !== null;
  }

  /** One purge run (the job's body; call it directly only where no other runner can exist, e.g. tests). */
  async run(name: string, heartbeat: () => Promise<unknown> = async () => {}): Promise<RetentionRun> {
    const policy = this.policy(name);
    const { database, clock, logger } = this.deps;
    const startedAt = clock.now().getTime();
    const cutoff = startedAt - policy.maxAgeMs;
    const batchSize = policy.batchSize ?? 500;
    const id = randomUUID();
    await database.db
      .insertInto('retention_runs')
      .values({
        id,
        policy: name,
        cutoff,
        deleted: 0,
        state: 'running',
        error: null,
        started_at: startedAt,
        finished_at: null,
      })
      .execute();
    let deleted = 0;
    try {
      for (;;) {
        const n = await policy.purgeBatch(cutoff, batchSize);
        deleted += n;
        await database.db.updateTable('retention_runs').set({ deleted }).where('id', '=', id).execute();
        await heartbeat();
        if (n < batchSize) break;
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await database.db
        .updateTable('retention_runs')
        .set({ state: 'failed', error: message.slice(0, 2_000), finished_at: clock.now().getTime() })
        .where('id', '=', id)
        .execute();
      throw err;
    }
    const finishedAt = clock.now().getTime();
    await database.db
      .updateTable('retention_runs')
      .set({ state: 'done', finished_at: finishedAt })
      .where('id', '=', id)
      .execute();
    logger.info(
      { policy: name, cutoff: new Date(cutoff).toISOString(), deleted },
      'retention purge finished',
    );
    return { id, policy: name, cutoff, deleted, state: 'done', error: null, startedAt, finishedAt };
  }

  /** Recorded runs, newest first. */
  async runs(name?: string, limit = 50): Promise<RetentionRun[]> {
    let q = this.deps.database.db
      .selectFrom('retention_runs')
      .selectAll()
      .orderBy('started_at', 'desc')
      .orderBy('id')
      .limit(limit);
    if (name) q = q.where('policy', '=', name);
    return (await q.execute()).map((r) => ({
      id: r.id,
      policy: r.policy,
      cutoff: Number(r.cutoff),
      deleted: Number(r.deleted),
      state: r.state,
      error: r.error,
      startedAt: Number(r.started_at),
      finishedAt: r.finished_at === null ? null : Number(r.finished_at),
    }));
  }
}

// Purged tables belong to modules; the platform does not know their types.
type AnyTables = Record<string, Record<string, unknown>>;

export interface TablePurgeSpec {
  table: string;
  /** Epoch-ms column compared with the cutoff. */
  timeColumn: string;
  /** The primary key's columns (e.g. ['tenant_id', 'id']). */
  keyColumns: string[];
  /**
   * What a purge does with an expired row. Default: delete it. Give `set` to blank columns instead
   * (e.g. `{ ip: null }` keeps an audit entry but drops its IP); the time column should then be nulled too or
   * another filter added through `where`, so that the row is not found again.
   */
  set?: Record<string, unknown>;
  /** Extra condition for rows this policy covers. */
  where?: RawBuilder<boolean>;
}

/**
 * A `purgeBatch` for a table with a time column: selects up to `limit` expired keys, then deletes (or blanks)
 * exactly those rows. Runs in a system context, since a purge crosses tenants.
 */
export function tablePurge(database: Database, spec: TablePurgeSpec): PurgePolicy['purgeBatch'] {
  return (cutoff, limit) =>
    withSystemContext(database, `retention purge of ${spec.table}`, async (trx: Transaction<Tables>) => {
      const t = trx as unknown as Transaction<AnyTables>;
      let q = t
        .selectFrom(spec.table)
        .select(spec.keyColumns.map((c) => sql.ref<unknown>(c).as(c)))
        .where(sql.ref(spec.timeColumn), '<', cutoff)
        .orderBy(sql.ref(spec.timeColumn))
        .limit(limit);
      if (spec.where) q = q.where(spec.where);
      const rows = (await q.execute()) as Record<string, unknown>[];
      if (rows.length === 0) return 0;
      const match = (eb: ExpressionBuilder<AnyTables, string>) =>
        eb.or(rows.map((r) => eb.and(spec.keyColumns.map((c) => eb(sql.ref(c), '=', r[c])))));
      if (spec.set) await t.updateTable(spec.table).set(spec.set).where(match).execute();
      else await t.deleteFrom(spec.table).where(match).execute();
      return rows.length;
    });
}

/** Read side: keeps only rows at or after `cutoff` (epoch ms) in `column`. */
export function notExpired<QB extends { where: (...args: never[]) => QB }>(
  qb: QB,
  column: string,
  cutoff: number,
): QB {
  return (qb.where as unknown as (lhs: unknown, op: string, rhs: number) => QB)(
    sql.ref(column),
    '>=',
    cutoff,
  );
}

export function createRetention(deps: {
  database: Database;
  jobs: JobQueue;
  clock: Clock;
  logger: Logger;
}): Retention {
  return new Retention(deps);
}
