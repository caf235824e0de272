import { LocalCopyRefused, type LocalCopy, type LocalCopyStore } from './localCopies.ts';

/** What the writer copies: the replica as it is now. */
export interface CopySource {
  snapshot(): Uint8Array;
  /** Some local edit has not been acknowledged by the server. */
  pending(): boolean;
  role(): LocalCopy['role'];
}

export interface LocalCopyWriterOptions {
  readonly store: LocalCopyStore;
  readonly accountId: string;
  readonly mapId: string;
  readonly source: CopySource;
  /** This page session's id in the copies it writes (localCopies.ts `LocalCopy.writer`). */
  readonly writer: string;
  /** The stored copy already holds unsent edits (the map was opened from it). */
  readonly storedPending?: boolean;
  /** The copy could not be kept (the message to show), or can again (undefined). */
  readonly onProblem: (message: string | undefined) => void;
  /** At most this long after a local edit (not reset by the next one): a killed tab loses at most this much. */
  readonly localDelayMs?: number;
  /** After others' edits only: rarely (a snapshot of a big map costs tens of ms); the welcome fills the gap. */
  readonly remoteDelayMs?: number;
  readonly setTimer?: (run: () => void, ms: number) => unknown;
  readonly clearTimer?: (timer: unknown) => void;
  readonly now?: () => number;
}

/**
 * Keeps this browser's copy of an open map up to date (localCopies.ts): within a delay of a change, at once on
 * `flush()` (the page is being hidden or unloaded), one write at a time, the latest state winning.
 */
export class LocalCopyWriter {
  private timer: unknown;
  private due = Infinity;
  private writing: Promise<void> | undefined;
  private dirty = false;
  private storedPending = false;
  private disposed = false;
  private readonly setTimer: (run: () => void, ms: number) => unknown;
  private readonly clearTimer: (timer: unknown) => void;
  private readonly now: () => number;

  constructor(private readonly options: LocalCopyWriterOptions) {
    this.setTimer = options.setTimer ?? ((run, ms) => setTimeout(run, ms));
    this.clearTimer = options.clearTimer ?? ((t) => clearTimeout(t as ReturnType<typeof setTimeout>));
    this.now = options.now ?? Date.now;
    this.storedPending = options.storedPending ?? false;
  }

  localChange(): void {
    this.schedule(this.options.localDelayMs ?? 1_000);
  }

  remoteChange(): void {
    this.schedule(this.options.remoteDelayMs ?? 30_000);
  }

  /** Everything local reached the server: the stored copy no longer holds unsent edits. */
  saved(): void {
    if (!this.storedPending || this.dirty || this.disposed) return;
    this.storedPending = false;
    const { store, accountId, mapId, writer } = this.options;
    store.markSaved(accountId, mapId, writer).catch(() => undefined);
  }

  /** Writes now if anything changed since the last write (pagehide, tab hidden, closing the map). */
  flush(): Promise<void> {
    if (this.disposed) return this.writing ?? Promise.resolve();
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
    this.due = Infinity;
    if (!this.dirty) return this.writing ?? Promise.resolve();
    return this.write();
  }

  dispose(): void {
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
    this.disposed = true;
  }

  private schedule(delayMs: number): void {
    if (this.disposed) return;
    this.dirty = true;
    const due = this.now() + delayMs;
    if (due >= this.due) return;
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.due = due;
    this.timer = this.setTimer(() => {
      this.timer = undefined;
      this.due = Infinity;
      void this.write();
    }, delayMs);
  }

  private async write(): Promise<void> {
    // One write at a time; a change during it is written after it, from the state of that moment.
    while (this.writing) await this.writing;
    if (!this.dirty || this.disposed) return;
    this.dirty = false;
    const { source, store, accountId, mapId } = this.options;
    const pending = source.pending();
    const copy: LocalCopy = {
      snapshot: source.snapshot(),
      pending,
      role: source.role(),
      savedAt: this.now(),
      writer: this.options.writer,
    };
    this.writing = store.write(accountId, mapId, copy).then(
      () => {
        this.storedPending = pending;
        this.options.onProblem(undefined);
      },
      (error: unknown) => {
        this.options.onProblem(
          error instanceof LocalCopyRefused ? error.message : new LocalCopyRefused('refused').message,
        );
      },
    );
    try {
      await this.writing;
    } finally {
      this.writing = undefined;
    }
  }
}
