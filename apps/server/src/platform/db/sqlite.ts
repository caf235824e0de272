/**
 * One SQLite connection as Canopy opens it, on the main thread and on the writer thread alike: WAL, so readers
 * never wait for a writer and a second connection (the writer thread) can share the file; synchronous=FULL, so
 * a committed transaction survives power loss (the collab log's acknowledgements rely on it).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';

/** How long a statement waits for another connection's write lock before it fails with SQLITE_BUSY. */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

export const isInMemorySqlite = (file: string) => file === ':memory:' || file === '';

export function openSqliteConnection(file: string): SQLite.Database {
  if (!isInMemorySqlite(file)) mkdirSync(dirname(file), { recursive: true });
  const raw = new SQLite(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = FULL');
  raw.pragma('foreign_keys = ON');
  raw.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  return raw;
}

/** SQLITE_BUSY and its extended codes (SQLITE_BUSY_SNAPSHOT, ...): another connection holds the lock. */
export function isSqliteBusy(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/**
 * Turn-taking at the write lock between the main connection and the writer threads of one database, in shared
 * memory. SQLite's own busy handling is unfair here: a writer thread that commits back to back holds the lock
 * almost all the time, and the main thread, which must not sleep, only polls for it. So the main thread says
 * when it wants the lock and when it holds it; a writer thread starts no transaction meanwhile, and is woken
 * the moment the main thread's transaction ends.
 */
export class SqliteWriteTurns {
  private static readonly WANTS = 0;
  private static readonly HOLDS = 1;
  private readonly words: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(8)) {
    this.words = new Int32Array(buffer);
  }

  /** Main thread: about to try BEGIN IMMEDIATE (writer threads hold off after their current transaction). */
  mainWants(): void {
    Atomics.store(this.words, SqliteWriteTurns.WANTS, 1);
  }

  /** Main thread: BEGIN IMMEDIATE succeeded. */
  mainHolds(): void {
    Atomics.store(this.words, SqliteWriteTurns.HOLDS, 1);
    Atomics.store(this.words, SqliteWriteTurns.WANTS, 0);
  }

  /** Main thread: its transaction ended (or it gave up wanting the lock). */
  mainReleased(): void {
    Atomics.store(this.words, SqliteWriteTurns.WANTS, 0);
    Atomics.store(this.words, SqliteWriteTurns.HOLDS, 0);
    Atomics.notify(this.words, SqliteWriteTurns.WANTS);
  }

  /**
   * Writer thread, before a transaction: waits while the main thread wants or holds the lock, at most
   * `timeoutMs` in all (then SQLite's busy timeout takes over). Blocks only the calling thread.
   */
  waitForMain(timeoutMs = SQLITE_BUSY_TIMEOUT_MS): void {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const wants = Atomics.load(this.words, SqliteWriteTurns.WANTS);
      const holds = Atomics.load(this.words, SqliteWriteTurns.HOLDS);
      if (!wants && !holds) return;
      const left = until - Date.now();
      if (left <= 0) return;
      // Woken by mainReleased; the timeout also covers a `mainHolds` that raced with the wait.
      Atomics.wait(this.words, SqliteWriteTurns.WANTS, wants, Math.min(left, 5));
    }
  }
}
