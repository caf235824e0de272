/**
 * Synchronous procedures over one SQLite connection, with their statements prepared once: the cheap way to run
 * a hot transaction (no query building, no re-preparing). A module exports a `ProcedureModule`; a host runs it
 * on a writer thread of its own (a file database: the event loop keeps serving while the transaction commits
 * and fsyncs) or inline on the main connection (':memory:', which no other connection can open).
 *
 * A procedure's arguments and result cross a thread boundary: plain data (structured clone), no functions.
 * Tenant scoping is the procedure's job: it gets the tenant id as an argument and puts it in every statement.
 */
import type SQLite from 'better-sqlite3';

/** Any procedure (each declares its own argument type; `never` accepts them all). */
export type Procedure = (args: never) => unknown;
export type Procedures = Record<string, Procedure>;

export interface ProcedureModule<P extends Procedures> {
  /** `import.meta.url` of the module that exports this object (the writer thread imports it). */
  readonly url: string;
  /** The name this object is exported under. */
  readonly exportName: string;
  /** Prepares the statements on `raw` and returns the procedures. Called once per connection. */
  prepare(raw: SQLite.Database): P;
}

export interface ProcedureHost<P extends Procedures> {
  /** Runs `name(args)`; resolves after it returned (a transaction in it has committed), rejects if it threw. */
  call<K extends keyof P & string>(name: K, args: Parameters<P[K]>[0]): Promise<ReturnType<P[K]>>;
  /** Waits for the calls already made, then releases the connection (the thread ends). */
  close(): Promise<void>;
}

/** Messages between a `SqliteThreadHost` and its thread. */
export type ToThread = { id: number; name: string; args: unknown } | { close: true };
export type FromThread =
  | { ready: true }
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { name: string; message: string; code?: string } };

export interface ThreadData {
  file: string;
  /** `SqliteWriteTurns.buffer` of the database's main connection. */
  turns: SharedArrayBuffer;
  moduleUrl: string;
  exportName: string;
}
