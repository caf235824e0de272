/**
 * A job queue in the SQL database, the same on all three dialects: enqueue, lease with timeout, retry with
 * exponential backoff, dead jobs kept and visible, periodic schedules, and at most one active job per key
 * across all nodes. Claiming is an optimistic `UPDATE ... WHERE state = <what we saw>`: whichever node's update
 * matches wins, so no dialect-specific locking is needed. Time comes from the injected clock.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/connect.ts';
import { isUniqueViolation } from '../db/errors.ts';
import type { JobsTable } from '../db/schema.ts';

export interface JobContext {
  readonly jobId: string;
  /** 1 on the first run. */
  readonly attempt: number;
  /** Pushes the lease forward for long work; returns false when the lease was lost to another node. */
  extendLease(ms?: number): Promise<boolean>;
}

export type JobHandler<P> = (payload: P, ctx: JobContext) => Promise<void>;

export interface JobOptions {
  maxAttempts?: number;
  /** How long a run may take before another node may take the job over. */
  leaseMs?: number;
  /** Delay before retry N (1-based). Default: 5 s doubling, at most 1 h. */
  backoffMs?: (attempt: number) => number;
}

interface Definition {
  handler: JobHandler<unknown>;
  maxAttempts: number;
  leaseMs: number;
  backoffMs: (attempt: number) => number;
}

export interface EnqueueOptions {
  runAt?: Date;
  /** At most one pending-or-running job per key: a second enqueue with an active key is dropped. */
  key?: string;
  maxAttempts?: number;
}

export type JobRow = Omit<JobsTable, 'payload'> & { payload: unknown };

const defaultBackoff = (attempt: number) => Math.min(5_000 * 2 ** (attempt - 1), 3_600_000);
const FINISHED_RETENTION_MS = 7 * 24 * 3_600_000;

/** How one run of a job ended: done, failed with attempts left, or failed for good. */
export type JobOutcome = 'done' | 'retry' | 'dead';

export class JobQueue {
  private readonly definitions = new Map<string, Definition>();
  private readonly nodeId = `node-${randomUUID()}`;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = true;
  private outcomes: ((job: string, outcome: JobOutcome) => void) | undefined;

  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.define('jobs.purge_finished', async () => {
      const cutoff = this.now() - FINISHED_RETENTION_MS;
      await this.db
        .deleteFrom('jobs')
        .where('state', '=', 'done')
        .where('finished_at', '<', cutoff)
        .execute();
    });
  }

  private get db() {
    return this.database.db;
  }

  /** Tells `observer` how each run on this node ended (the app counts them: `canopy_jobs_total`). */
  observe(observer: (job: string, outcome: JobOutcome) => void): void {
    this.outcomes = observer;
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  define<P>(name: string, handler: JobHandler<P>, options: JobOptions = {}): void {
    if (this.definitions.has(name)) throw new Error(`job ${name} is defined twice`);
    this.definitions.set(name, {
      handler: handler as JobHandler<unknown>,
      maxAttempts: options.maxAttempts ?? 5,
      leaseMs: options.leaseMs ?? 60_000,
      backoffMs: options.backoffMs ?? defaultBackoff,
    });
  }

  /** Returns the new job's id, or null when a job with the same key is already pending or running. */
  async enqueue(name: string, payload: unknown = {}, options: EnqueueOptions = {}): Promise<string | null> {
    const def = this.definitions.get(name);
    if (!def) throw new Error(`unknown job ${name}`);
    const id = randomUUID();
    try {
      await this.db
        .insertInto('jobs')
        .values({
          id,
          name,
          payload: JSON.stringify(payload ?? null),
          state: 'pending',
          active_key: options.key ?? null,
          run_at: options.runAt?.getTime() ?? this.now(),
          attempts: 0,
          max_attempts: options.maxAttempts ?? def.maxAttempts,
          lease_owner: null,
          lease_until: null,
          last_error: null,
          created_at: this.now(),
          finished_at: null,
        })
        .execute();
      return id;
    } catch (err) {
      if (options.key && isUniqueViolation(err)) return null;
      throw err;
    }
  }

  /** Runs job `name` every `intervalMs` (first run after one interval, or at `firstRunAt`). Idempotent across nodes. */
  async schedule(name: string, intervalMs: number, firstRunAt?: Date): Promise<void> {
    if (!this.definitions.has(name)) throw new Error(`unknown job ${name}`);
    const existing = await this.db
      .selectFrom('job_schedules')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    if (!existing) {
      try {
        await this.db
          .insertInto('job_schedules')
          .values({
            name,
            interval_ms: intervalMs,
            next_run_at: firstRunAt?.getTime() ?? this.now() + intervalMs,
          })
          .execute();
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
    } else if (Number(existing.interval_ms) !== intervalMs) {
      await this.db
        .updateTable('job_schedules')
        .set({ interval_ms: intervalMs })
        .where('name', '=', name)
        .execute();
    }
  }

  /** Enqueues the scheduled jobs that are due; exactly one node wins each period. */
  async tickSchedules(): Promise<number> {
    const now = this.now();
    const due = await this.db
      .selectFrom('job_schedules')
      .selectAll()
      .where('next_run_at', '<=', now)
      .execute();
    let enqueued = 0;
    for (const s of due) {
      if (!this.definitions.has(s.name)) continue;
      const won = await this.db
        .updateTable('job_schedules')
        .set({ next_run_at: now + Number(s.interval_ms) })
        .where('name', '=', s.name)
        .where('next_run_at', '=', s.next_run_at)
        .executeTakeFirst();
      if (Number(won.numUpdatedRows) !== 1) continue;
      if (await this.enqueue(s.name, {}, { key: `schedule:${s.name}` })) enqueued++;
    }
    return enqueued;
  }

  /** Claims one due job (pending, or running with an expired lease), or returns undefined. */
  private async claim(): Promise<{ row: JobRow; def: Definition } | undefined> {
    const now = this.now();
    const candidates = await this.db
      .selectFrom('jobs')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([eb('state', '=', 'pending'), eb('run_at', '<=', now)]),
          eb.and([eb('state', '=', 'running'), eb('lease_until', '<', now)]),
        ]),
      )
      .orderBy('run_at')
      .limit(8)
      .execute();
    for (const row of candidates) {
      const def = this.definitions.get(row.name);
      if (!def) continue; // another node's version may know it
      if (row.state === 'running' && row.attempts >= row.max_attempts) {
        await this.finish(
          row,
          'dead',
          `lease expired on attempt ${row.attempts} (node died?)`,
          row.lease_owner,
        );
        continue;
      }
      const claimed = await this.db
        .updateTable('jobs')
        .set({
          state: 'running',
          lease_owner: this.nodeId,
          lease_until: now + def.leaseMs,
          attempts: row.attempts + 1,
        })
        .where('id', '=', row.id)
        .where('state', '=', row.state)
        .where('attempts', '=', row.attempts)
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 1) {
        return {
          row: { ...row, attempts: row.attempts + 1, payload: JSON.parse(row.payload) as unknown },
          def,
        };
      }
    }
    return undefined;
  }

  private async finish(
    row: Pick<JobsTable, 'id'>,
    state: 'done' | 'dead',
    error: string | null,
    owner: string | null = this.nodeId,
  ): Promise<void> {
    let q = this.db
      .updateTable('jobs')
      .set({
        state,
        active_key: null,
        lease_owner: null,
        lease_until: null,
        last_error: error,
        finished_at: this.now(),
      })
      .where('id', '=', row.id);
    q = owner === null ? q.where('lease_owner', 'is', null) : q.where('lease_owner', '=', owner);
    await q.execute();
  }

  /** Runs one claimed job to its outcome. Returns false when nothing was due. */
  async runOne(): Promise<boolean> {
    const claimed = await this.claim();
    if (!claimed) return false;
    const { row, def } = claimed;
    const ctx: JobContext = {
      jobId: row.id,
      attempt: row.attempts,
      extendLease: async (ms = def.leaseMs) => {
        const r = await this.db
          .updateTable('jobs')
          .set({ lease_until: this.now() + ms })
          .where('id', '=', row.id)
          .where('lease_owner', '=', this.nodeId)
          .executeTakeFirst();
        return Number(r.numUpdatedRows) === 1;
      },
    };
    try {
      await def.handler(row.payload, ctx);
      await this.finish(row, 'done', null);
      this.outcomes?.(row.name, 'done');
    } catch (err) {
      const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      if (row.attempts >= row.max_attempts) {
        this.logger.error(
          { job: row.name, jobId: row.id, attempt: row.attempts, err },
          'job failed for good',
        );
        await this.finish(row, 'dead', message);
        this.outcomes?.(row.name, 'dead');
      } else {
        this.logger.warn(
          { job: row.name, jobId: row.id, attempt: row.attempts, err },
          'job failed; will retry',
        );
        await this.db
          .updateTable('jobs')
          .set({
            state: 'pending',
            lease_owner: null,
            lease_until: null,
            last_error: message,
            run_at: this.now() + def.backoffMs(row.attempts),
          })
          .where('id', '=', row.id)
          .where('lease_owner', '=', this.nodeId)
          .execute();
        this.outcomes?.(row.name, 'retry');
      }
    }
    return true;
  }

  /** One pass: enqueue due schedules, then run due jobs until none is left (or `max`). Returns jobs run. */
  async drain(max = 100): Promise<number> {
    await this.tickSchedules();
    let n = 0;
    while (n < max && (await this.runOne())) n++;
    return n;
  }

  /** Polls for work until stop(). */
  start(pollMs = 1_000): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.schedule('jobs.purge_finished', 24 * 3_600_000).catch((err: unknown) =>
      this.logger.error({ err }, 'could not schedule jobs.purge_finished'),
    );
    const loop = () => {
      if (this.stopped) return;
      this.running = this.drain()
        .catch((err: unknown) => this.logger.error({ err }, 'job worker pass failed'))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.timer = setTimeout(loop, pollMs);
        });
    };
    this.timer = setTimeout(loop, pollMs);
  }

  /** Stops polling and waits for the job in hand (its lease lets another node retry if we die instead). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  async list(state?: JobsTable['state'], limit = 100): Promise<JobRow[]> {
    let q = this.db.selectFrom('jobs').selectAll().orderBy('created_at', 'desc').limit(limit);
    if (state) q = q.where('state', '=', state);
    const rows = await q.execute();
    return rows.map((r) => ({ ...r, payload: JSON.parse(r.payload) as unknown }));
  }

  /** Puts a dead job back in the queue with a fresh attempt count. */
  async retryDead(id: string): Promise<boolean> {
    const r = await this.db
      .updateTable('jobs')
      .set({ state: 'pending', attempts: 0, run_at: this.now(), finished_at: null })
      .where('id', '=', id)
      .where('state', '=', 'dead')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}
