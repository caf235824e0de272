/**
 * Synchronous procedures over the SQLite connection, with their statements prepared once: the cheap way to run
 * a hot transaction (no query building, no re-preparing, one synchronous call). A module exports a
 * `ProcedureModule`; the database's `ProcedureHost` prepares it on first use and runs each call when Kysely's
 * one connection is in no transaction, so a call never lands inside another transaction.
 *
 * A call blocks the event loop for its transaction, commit and fsync included (~0.2-1 ms for the collab log's
 * append). Measured against running the same procedures on a writer thread with its own connection (session 5,
 * `npm run bench collab`): inline was as fast or faster at 250 and 1000 edits/s, and cheaper in CPU; the thread
 * cost two thread hops per commit, whose wake-up delays on a busy 2-core machine set the p99.
 *
 * Tenant scoping is the procedure's job: it gets the tenant id as an argument and puts it in every statement.
 */
import type SQLite from 'better-sqlite3';

/** Any procedure (each declares its own argument type; `never` accepts them all). */
export type Procedure = (args: never) => unknown;
export type Procedures = Record<string, Procedure>;

export interface ProcedureModule<P extends Procedures> {
  /** Prepares the statements on `raw` and returns the procedures. Called once per connection. */
  prepare(raw: SQLite.Database): P;
}

/** Procedure calls waiting for Kysely's connection, across a connection's hosts (they run in call order). */
export interface QueuedCalls {
  count: number;
}

/**
 * Runs a module's procedures on the main connection. A call runs at once when the connection is in no
 * transaction and no other call waits; else it waits for Kysely's connection, behind what holds it. Kysely
 * holds the connection across event-loop turns only inside a transaction (better-sqlite3 runs each query
 * synchronously), so a call run at once never lands inside one, and calls keep their order. Waiting for the
 * connection cost every collab commit a chain of promises and ~4 KB of garbage (sampling heap profile,
 * session 11).
 */
export class ProcedureHost<P extends Procedures> {
  private procedures: P | undefined;

  constructor(
    private readonly raw: SQLite.Database,
    private readonly module: ProcedureModule<P>,
    private readonly exclusive: <T>(fn: () => T) => Promise<T>,
    private readonly queued: QueuedCalls = { count: 0 },
  ) {}

  /** Runs `name(args)`; resolves after it returned (a transaction in it has committed), rejects if it threw. */
  call<K extends keyof P & string>(name: K, args: Parameters<P[K]>[0]): Promise<ReturnType<P[K]>> {
    const run = () => {
      this.procedures ??= this.module.prepare(this.raw);
      const procedure = this.procedures[name];
      if (!procedure) throw new Error(`no procedure ${name}`);
      return procedure(args) as ReturnType<P[K]>;
    };
    // The executor runs now, synchronously; what `run` throws rejects the promise.
    if (this.queued.count === 0 && !this.raw.inTransaction) return new Promise((resolve) => resolve(run()));
    this.queued.count++;
    let waiting = true;
    const done = () => {
      if (waiting) this.queued.count--;
      waiting = false;
    };
    return this.exclusive(() => {
      done();
      return run();
    }).finally(done);
  }
}
