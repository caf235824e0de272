/**
 * Kysely's SQLite dialect with two changes for a file that a second connection (the writer thread,
 * sqlite-thread.ts) writes too:
 *
 * - Transactions begin IMMEDIATE (those set 'read only' stay DEFERRED: they never write). A DEFERRED transaction that reads and then writes fails at once with
 *   SQLITE_BUSY_SNAPSHOT if the other connection committed in between (no busy timeout helps there);
 *   IMMEDIATE takes the write lock up front, so every statement after it sees, and may write, the latest state.
 * - The write lock is waited for asynchronously. The connection's busy timeout would sleep inside SQLite, on the
 *   event loop, for as long as the writer thread holds the lock (a commit and its fsync); instead BEGIN
 *   IMMEDIATE is tried without a timeout and retried after short pauses, up to the same total time, and the
 *   writer threads are told to hold off meanwhile (`SqliteWriteTurns`): without that, a thread that commits
 *   back to back would leave the lock free only in gaps the polling rarely hits.
 */
import type SQLite from 'better-sqlite3';
import {
  SqliteDialect,
  type DatabaseConnection,
  type Driver,
  type QueryCompiler,
  type TransactionSettings,
} from 'kysely';
import { SQLITE_BUSY_TIMEOUT_MS, SqliteWriteTurns, isSqliteBusy } from './sqlite.ts';

/** Pauses between attempts at the write lock (ms; the last one repeats): a commit with its fsync is ~0.3-2 ms. */
const RETRY_PAUSES_MS = [0, 1, 1, 2, 2, 5, 5, 10];

export class ImmediateSqliteDialect extends SqliteDialect {
  constructor(
    private readonly raw: SQLite.Database,
    private readonly turns: SqliteWriteTurns,
  ) {
    super({ database: raw });
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(super.createDriver(), this.raw, this.turns);
  }
}

class ImmediateSqliteDriver implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly raw: SQLite.Database,
    private readonly turns: SqliteWriteTurns,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  acquireConnection(): Promise<DatabaseConnection> {
    return this.inner.acquireConnection();
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    // A transaction that only reads: DEFERRED, on a WAL snapshot, never waiting for a writer.
    if (settings.accessMode === 'read only') return this.inner.beginTransaction(connection, settings);
    const started = Date.now();
    this.turns.mainWants();
    try {
      await this.acquireWriteLock(started);
    } catch (err) {
      this.turns.mainReleased();
      throw err;
    }
    this.turns.mainHolds();
  }

  private async acquireWriteLock(started: number): Promise<void> {
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

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await this.inner.commitTransaction(connection);
    } finally {
      this.turns.mainReleased();
    }
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await this.inner.rollbackTransaction(connection);
    } finally {
      this.turns.mainReleased();
    }
  }

  savepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    if (!this.inner.savepoint) throw new Error('savepoints are not supported');
    return this.inner.savepoint(connection, name, compile);
  }

  rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    if (!this.inner.rollbackToSavepoint) throw new Error('savepoints are not supported');
    return this.inner.rollbackToSavepoint(connection, name, compile);
  }

  releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    if (!this.inner.releaseSavepoint) throw new Error('savepoints are not supported');
    return this.inner.releaseSavepoint(connection, name, compile);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(connection);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}
