/**
 * Kysely's SQLite dialect with two changes, for a file that another connection (another process: the CLI, a
 * second server pointed at the same file) may write too:
 *
 * - Transactions begin IMMEDIATE (those set 'read only' stay DEFERRED: they never write). A DEFERRED
 *   transaction that reads and then writes fails at once with SQLITE_BUSY_SNAPSHOT if the other connection
 *   committed in between (no busy timeout helps there); IMMEDIATE takes the write lock up front, so every
 *   statement after it sees, and may write, the latest state.
 * - The write lock is waited for asynchronously. The connection's busy timeout would sleep inside SQLite, on the
 *   event loop, for as long as the other connection holds the lock; instead BEGIN IMMEDIATE is tried without a
 *   timeout and retried after short pauses, up to the same total time.
 */
import type SQLite from 'better-sqlite3';
import {
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type TransactionSettings,
} from 'kysely';
import { SQLITE_BUSY_TIMEOUT_MS, isSqliteBusy } from './sqlite.ts';

/** Pauses between attempts at the write lock (ms; the last one repeats): a commit with its fsync is ~0.3-2 ms. */
const RETRY_PAUSES_MS = [0, 1, 1, 2, 2, 5, 5, 10];

export class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly raw: SQLite.Database) {
    super({ database: raw });
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.raw);
  }
}

/** Kysely's driver (one connection, queued), with IMMEDIATE transactions that wait off the event loop. */
class ImmediateSqliteDriver extends SqliteDriver {
  constructor(private readonly raw: SQLite.Database) {
    super({ database: raw });
  }

  override async beginTransaction(
    connection: DatabaseConnection,
    settings: TransactionSettings = {},
  ): Promise<void> {
    // A transaction that only reads: DEFERRED, on a WAL snapshot, never waiting for a writer.
    if (settings.accessMode === 'read only') return super.beginTransaction(connection);
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      if (this.tryBeginImmediate()) return;
      if (Date.now() - started >= SQLITE_BUSY_TIMEOUT_MS) {
        // Once more with the connection's own timeout, so the error is SQLite's.
        this.raw.exec('begin immediate');
        return;
      }
      const pause = RETRY_PAUSES_MS[Math.min(attempt, RETRY_PAUSES_MS.length - 1)] ?? 10;
      await new Promise<void>((resolve) =>
        pause === 0 ? setImmediate(resolve) : setTimeout(resolve, pause),
      );
    }
  }

  /** BEGIN IMMEDIATE without waiting: false when another connection holds the write lock. */
  private tryBeginImmediate(): boolean {
    this.raw.pragma('busy_timeout = 0');
    try {
      this.raw.exec('begin immediate');
      return true;
    } catch (err) {
      if (isSqliteBusy(err)) return false;
      throw err;
    } finally {
      this.raw.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    }
  }
}
