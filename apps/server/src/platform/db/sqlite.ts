/**
 * The SQLite connection as Canopy opens it: WAL, so readers never wait for a writer and another process (the
 * CLI, say) can share the file; synchronous=FULL, so a committed transaction survives power loss (the collab
 * log's append alone commits with NORMAL and has its WAL synced before it is acknowledged: wal-sync.ts).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';

/** How long a statement waits for another connection's write lock before it fails with SQLITE_BUSY. */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

/**
 * MiB of page cache a connection keeps by default. SQLite fills it as the server reads and writes pages and does
 * not give it back: under steady co-editing the event loop's malloc arena grew by ~25 MB with it over the first
 * 18 minutes, then stayed (`npm run bench collab-soak`; docs/operations.md, "Memory"). Stated here rather than
 * left to better-sqlite3's build (which has -16000 KiB), so that the figure operators read is the one they get.
 */
export const SQLITE_CACHE_MIB = 16;

export const isInMemorySqlite = (file: string) => file === ':memory:' || file === '';

export function openSqliteConnection(file: string, cacheMiB = SQLITE_CACHE_MIB): SQLite.Database {
  if (!isInMemorySqlite(file)) mkdirSync(dirname(file), { recursive: true });
  const raw = new SQLite(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = FULL');
  raw.pragma('foreign_keys = ON');
  raw.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  // Negative: a size in KiB rather than a number of pages.
  raw.pragma(`cache_size = -${cacheMiB * 1024}`);
  return raw;
}

/** SQLITE_BUSY and its extended codes (SQLITE_BUSY_SNAPSHOT, ...): another connection holds the lock. */
export function isSqliteBusy(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}
