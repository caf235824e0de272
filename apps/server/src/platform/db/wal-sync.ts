/**
 * Makes what a SQLite connection has written to its WAL durable, on libuv's thread pool, so the event loop
 * never waits for the disk. For a transaction committed with `synchronous=NORMAL` (which writes the WAL but
 * skips SQLite's own sync): once `sync()` resolves, it survives power loss as if it had been committed with
 * `synchronous=FULL`. The collab log's append commits that way (docs/protocol/collab.md R10, R11): the room
 * relays the update to its editors as soon as the transaction commits and acknowledges it once this resolves.
 *
 * Why this is as safe as FULL: in WAL mode NORMAL keeps the database consistent through a power loss (SQLite
 * syncs the WAL before each checkpoint and the database file after it; a frame is valid only with the salt of
 * the WAL header it follows and an unbroken checksum chain), and loses only the transactions committed since
 * the WAL was last synced. `fdatasync` on the WAL file (any descriptor of it: the call is per file) syncs every
 * frame written before it began, size included.
 *
 * Syncs are coalesced: one runs at a time; a call made while one runs waits for the next, which starts when
 * that one ends and covers every call made meanwhile (the one running may have started before the caller's
 * write). A failed sync fails that call and every later one: after a failed fsync Linux may have dropped the
 * dirty pages, so nothing written since can be promised durable; the rooms close and clients resend (R14).
 *
 * The WAL file is opened at the first sync (it exists once the first transaction has committed) and kept
 * open: SQLite deletes it only when its last connection closes, and this process holds one until `close()`.
 */
import { close, fdatasync, openSync } from 'node:fs';

/** `fs.fdatasync`'s shape: tests put a gate in front of it. */
export type SyncFile = (fd: number, done: (err: NodeJS.ErrnoException | null) => void) => void;

export class WalSyncError extends Error {
  constructor(cause: unknown) {
    super(`syncing the SQLite WAL failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'WalSyncError';
  }
}

export class WalSync {
  private fd: number | undefined;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private failure: WalSyncError | undefined;

  /** `walFile` is the database file's name plus `-wal`; undefined for an in-memory database (no WAL). */
  constructor(
    private readonly walFile: string | undefined,
    private readonly syncFile: SyncFile = fdatasync,
  ) {}

  /** Resolves once everything written to the WAL before this call is on disk; rejects if that failed. */
  sync(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.walFile === undefined) return Promise.resolve();
    if (!this.running) return this.start();
    this.queued ??= this.running.then(
      () => {
        this.queued = undefined;
        return this.start();
      },
      (err: unknown) => {
        this.queued = undefined;
        throw err;
      },
    );
    return this.queued;
  }

  private start(): Promise<void> {
    const run = new Promise<void>((resolve, reject) => {
      let fd: number;
      try {
        fd = this.fd ??= openSync(this.walFile!, 'r');
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      this.syncFile(fd, (err) => (err ? reject(err) : resolve()));
    }).then(
      () => {
        if (this.running === run) this.running = undefined;
      },
      (err: unknown) => {
        this.failure ??= new WalSyncError(err);
        if (this.running === run) this.running = undefined;
        throw this.failure;
      },
    );
    this.running = run;
    return run;
  }

  /** The failure that ended syncing, if one did: the database's readiness check reports it (/readyz). */
  get failed(): WalSyncError | undefined {
    return this.failure;
  }

  /** Closes the WAL file's descriptor once the sync running (if any) is over. */
  async close(): Promise<void> {
    await Promise.allSettled([this.running, this.queued]);
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) await new Promise<void>((resolve) => close(fd, () => resolve()));
  }
}
