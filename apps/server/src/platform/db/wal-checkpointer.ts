/**
 * Checkpoints the SQLite WAL on a thread of its own (wal-checkpoint-thread.mjs), so the event loop never copies
 * WAL pages into the database file nor waits for the two syncs that come with it. SQLite's automatic checkpoint
 * runs inside the commit that takes the WAL past 1,000 pages: at 250 co-editing edits/s that was a 1-2 ms stall
 * of the event loop about once a second, inside a room's commit right after its relay. Session 12, timing the
 * collab append on the event loop (quick bench runs, 3,000 commits each): commits over 1 ms were 9 per 1,000
 * with SQLite's checkpoint, 2 per 1,000 with this thread's, none with no checkpoint at all; the append's p99
 * 0.72-0.77, 0.70 and 0.35-0.44 ms (the thread's copying and syncs still take a share of the 2 cores). The
 * fan-out's p99 did not move with no checkpoint at all (5 interleaved pairs: 2.80 and 2.80 ms).
 *
 * The thread runs a PASSIVE checkpoint every `intervalMs`: it copies what no reader still needs and takes no lock
 * that a writer or reader here would wait for. Once a checkpoint has copied the whole WAL, SQLite's next writer
 * starts the WAL over from its beginning, so it stays small. A writer that appends all the time can keep
 * PASSIVE checkpoints from ever copying it all; the main connection's own automatic checkpoint, raised to
 * `fallbackPages` while the thread runs, still bounds the WAL then. If the thread fails, the main connection
 * checkpoints as SQLite does by default again.
 */
import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';

export type CheckpointResult =
  { ok: true; busy: boolean; log: number; checkpointed: number } | { ok: false; error: string };

export type ToCheckpointThread = { kind: 'checkpoint'; id: number } | { kind: 'stop' };
export type FromCheckpointThread =
  | { ready: true }
  | { failed: string }
  /** Frames the thread's own checkpoints copied (reported when there were some). */
  | { copied: number }
  | { id: number; result: CheckpointResult };

export interface WalCheckpointerOptions {
  /** Between two checkpoints. Default 250 ms. */
  intervalMs?: number;
  /** The main connection's automatic checkpoint (pages) while the thread runs. Default 10,000 (~40 MB). */
  fallbackPages?: number;
  /** Told when the thread fails (it is not restarted; the main connection checkpoints by itself again). */
  onError?: (err: Error) => void;
  /**
   * The thread starts this long after the checkpointer is made (until then the connection checkpoints by
   * itself): a database opened for a moment (a CLI command, a test) never starts one. Default 1 s.
   */
  startAfterMs?: number;
}

const ENTRY = new URL('./wal-checkpoint-thread.mjs', import.meta.url);
/** SQLite's default `wal_autocheckpoint`. */
const DEFAULT_AUTOCHECKPOINT = 1000;

export class WalCheckpointer {
  private worker: Worker | undefined;
  private readonly starting: NodeJS.Timeout | undefined;
  private readonly waiting = new Map<number, (result: CheckpointResult) => void>();
  private nextId = 1;
  private copied = 0;
  private ended = false;
  private stopping = false;

  constructor(
    private readonly file: string,
    private readonly main: SQLite.Database,
    private readonly options: WalCheckpointerOptions = {},
  ) {
    const after = options.startAfterMs ?? 1_000;
    if (after <= 0) this.start();
    else {
      this.starting = setTimeout(() => this.start(), after);
      this.starting.unref();
    }
  }

  private start(): void {
    if (this.ended || this.worker) return;
    const { main, options } = this;
    main.pragma(`wal_autocheckpoint = ${options.fallbackPages ?? 10_000}`);
    const worker = new Worker(ENTRY, {
      workerData: { file: this.file, intervalMs: options.intervalMs ?? 250 },
    });
    this.worker = worker;
    worker.unref();
    const end = (err: Error | undefined) => {
      if (this.ended) return;
      this.ended = true;
      if (main.open) main.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT}`);
      for (const resolve of this.waiting.values())
        resolve({ ok: false, error: 'the checkpoint thread ended' });
      this.waiting.clear();
      if (err && !this.stopping) options.onError?.(err);
    };
    worker.on('message', (message: FromCheckpointThread) => {
      if ('failed' in message) options.onError?.(new Error(`WAL checkpoint failed: ${message.failed}`));
      if ('copied' in message) this.copied += message.copied;
      if (!('id' in message)) return;
      this.waiting.get(message.id)?.(message.result);
      this.waiting.delete(message.id);
      if (this.waiting.size === 0) worker.unref();
    });
    worker.on('error', (err) => end(err));
    worker.on('exit', (code) => end(new Error(`the checkpoint thread exited (code ${code})`)));
  }

  /** A checkpoint now, on the thread (tests, and a caller that wants the WAL copied before it goes on). */
  checkpoint(): Promise<CheckpointResult> {
    const worker = this.worker;
    if (this.ended || !worker)
      return Promise.resolve({ ok: false, error: 'the checkpoint thread is not running' });
    const id = this.nextId++;
    worker.ref();
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      worker.postMessage({ kind: 'checkpoint', id } satisfies ToCheckpointThread);
    });
  }

  /** WAL frames the thread's own checkpoints (every `intervalMs`) have copied so far. */
  get framesCopied(): number {
    return this.copied;
  }

  /** Whether the thread runs (else the main connection checkpoints by itself). */
  get running(): boolean {
    return this.worker !== undefined && !this.ended;
  }

  /** Stops the thread and closes its connection; the main connection checkpoints by itself again. */
  async close(): Promise<void> {
    clearTimeout(this.starting);
    const worker = this.worker;
    if (this.ended || !worker) {
      this.ended = true;
      return;
    }
    this.stopping = true;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ kind: 'stop' } satisfies ToCheckpointThread);
    await exited;
  }
}
