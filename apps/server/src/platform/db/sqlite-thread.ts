/**
 * Runs a procedure module (sqlite-procedures.ts) on a writer thread with its own connection to the database
 * file: the transaction, its commit and the fsync happen off the event loop. The main thread's connection
 * begins its transactions IMMEDIATE (sqlite-dialect.ts), so the two take turns at SQLite's one write lock.
 *
 * The thread starts on the first call (a process that never writes there pays nothing) and is not restarted
 * behind a caller's back: if it dies, every call waiting on it fails (its outcome is unknown: the caller must
 * not report it done), and the next call starts a new thread, whose start-up error (if any) that call gets.
 */
import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';
import type { SqliteWriteTurns } from './sqlite.ts';
import type {
  FromThread,
  ProcedureHost,
  ProcedureModule,
  Procedures,
  ThreadData,
  ToThread,
} from './sqlite-procedures.ts';

const ENTRY = new URL('./sqlite-thread-worker.ts', import.meta.url);

interface Waiter {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** One started thread and the calls it has not answered yet. */
interface Thread {
  worker: Worker;
  waiting: Map<number, Waiter>;
  /** Set once it has exited or failed: nothing more may be posted to it. */
  ended?: Error;
}

function bootstrap(entry: URL): { code: string; eval: boolean } | { code: URL; eval: false } {
  // A TypeScript entry needs tsx's loader, which a worker does not inherit from the thread that started it.
  if (!entry.pathname.endsWith('.ts')) return { code: entry, eval: false };
  const tsx = import.meta.resolve('tsx/esm/api');
  return {
    code: `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`,
    eval: true,
  };
}

export class SqliteThreadHost<P extends Procedures> implements ProcedureHost<P> {
  private thread: Promise<Thread> | undefined;
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly module: ProcedureModule<P>,
    private readonly turns: SqliteWriteTurns,
  ) {}

  async call<K extends keyof P & string>(name: K, args: Parameters<P[K]>[0]): Promise<ReturnType<P[K]>> {
    if (this.closed) throw new Error('the SQLite writer thread is closed');
    const thread = await this.started();
    if (thread.ended) throw thread.ended;
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      thread.waiting.set(id, { resolve, reject });
      if (thread.waiting.size === 1) thread.worker.ref();
      thread.worker.postMessage({ id, name, args } satisfies ToThread);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const thread = await this.thread?.catch(() => undefined);
    if (!thread || thread.ended) return;
    const exited = new Promise<void>((resolve) => thread.worker.once('exit', () => resolve()));
    // Queued after every call already posted: those are answered first.
    thread.worker.postMessage({ close: true } satisfies ToThread);
    thread.worker.ref();
    await exited;
  }

  private started(): Promise<Thread> {
    this.thread ??= this.start();
    return this.thread;
  }

  private start(): Promise<Thread> {
    const boot = bootstrap(ENTRY);
    const workerData: ThreadData = {
      file: this.file,
      turns: this.turns.buffer,
      moduleUrl: this.module.url,
      exportName: this.module.exportName,
    };
    const worker = new Worker(boot.code, { eval: boot.eval, workerData });
    const thread: Thread = { worker, waiting: new Map() };
    return new Promise<Thread>((resolve, reject) => {
      const end = (err: Error) => {
        if (thread.ended) return;
        thread.ended = err;
        if (this.thread && !this.closed) this.thread = undefined;
        for (const waiter of thread.waiting.values()) waiter.reject(err);
        thread.waiting.clear();
        reject(err);
      };
      worker.on('message', (message: FromThread) => {
        if ('ready' in message) {
          worker.unref();
          resolve(thread);
          return;
        }
        const waiter = thread.waiting.get(message.id);
        thread.waiting.delete(message.id);
        if (thread.waiting.size === 0) worker.unref();
        if (!waiter) return;
        if (message.ok) waiter.resolve(message.value);
        else waiter.reject(Object.assign(new Error(message.error.message), message.error));
      });
      worker.on('error', (err) =>
        end(new Error(`the SQLite writer thread failed: ${err.message}`, { cause: err })),
      );
      worker.on('exit', (code) =>
        end(
          new Error(
            this.closed
              ? 'the SQLite writer thread is closed'
              : `the SQLite writer thread exited (code ${code}); the outcome of its pending calls is unknown`,
          ),
        ),
      );
    });
  }
}

/**
 * The same procedures on the main connection (an in-memory database, which a thread cannot open), each call
 * run while holding Kysely's one connection so that it never lands inside another transaction.
 */
export class InlineProcedureHost<P extends Procedures> implements ProcedureHost<P> {
  private procedures: P | undefined;

  constructor(
    private readonly raw: SQLite.Database,
    private readonly module: ProcedureModule<P>,
    private readonly exclusive: <T>(fn: () => T) => Promise<T>,
  ) {}

  call<K extends keyof P & string>(name: K, args: Parameters<P[K]>[0]): Promise<ReturnType<P[K]>> {
    return this.exclusive(() => {
      this.procedures ??= this.module.prepare(this.raw);
      const procedure = this.procedures[name];
      if (!procedure) throw new Error(`no procedure ${name}`);
      return procedure(args) as ReturnType<P[K]>;
    });
  }

  async close(): Promise<void> {}
}
