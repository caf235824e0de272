import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from './connect.ts';
import { openSqliteConnection } from './sqlite.ts';
import { WalSync, WalSyncError, type SyncFile } from './wal-sync.ts';

const dirs: string[] = [];
const connections: { close(): unknown }[] = [];
afterEach(() => {
  for (const c of connections.splice(0)) c.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * A SQLite file in WAL mode with one committed row (so its WAL exists), and the WAL's name. The connection
 * stays open: the last one to close deletes the WAL.
 */
function walFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'canopy-wal-sync-'));
  dirs.push(dir);
  const raw = openSqliteConnection(join(dir, 'db.sqlite'));
  raw.exec('create table t (x integer)');
  raw.prepare('insert into t values (1)').run();
  connections.push(raw);
  return join(dir, 'db.sqlite-wal');
}

/** A `SyncFile` that records its calls and finishes each only when told to. */
function gatedSync() {
  const calls: { fd: number; done: (err: NodeJS.ErrnoException | null) => void }[] = [];
  const sync: SyncFile = (fd, done) => void calls.push({ fd, done });
  return { sync, calls };
}

const settled = async (p: Promise<unknown>) => {
  let state = 'pending';
  p.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return state;
};

describe('WalSync', () => {
  it('syncs the WAL file of a real database', async () => {
    const wal = new WalSync(walFile());
    await expect(wal.sync()).resolves.toBeUndefined();
    await expect(wal.sync()).resolves.toBeUndefined();
    await wal.close();
  });

  it('does nothing for an in-memory database', async () => {
    const { sync, calls } = gatedSync();
    await new WalSync(undefined, sync).sync();
    expect(calls).toHaveLength(0);
  });

  it('runs one sync at a time; calls made during one wait for the next, which covers them all', async () => {
    const { sync, calls } = gatedSync();
    const wal = new WalSync(walFile(), sync);
    const first = wal.sync();
    const second = wal.sync();
    const third = wal.sync();
    expect(calls).toHaveLength(1);
    expect(second).toBe(third);

    // The running sync may have begun before the second caller's write: finishing it does not answer that call.
    calls[0]!.done(null);
    expect(await settled(first)).toBe('resolved');
    expect(await settled(second)).toBe('pending');
    expect(calls).toHaveLength(2);

    calls[1]!.done(null);
    expect(await settled(third)).toBe('resolved');
    expect(calls[1]!.fd).toBe(calls[0]!.fd);
    await wal.close();
  });

  it('fails the call whose sync failed, those waiting for it, and every later one', async () => {
    const { sync, calls } = gatedSync();
    const wal = new WalSync(walFile(), sync);
    const first = wal.sync();
    const waiting = wal.sync();
    const eio = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    calls[0]!.done(eio);
    await expect(first).rejects.toBeInstanceOf(WalSyncError);
    await expect(waiting).rejects.toThrow(/EIO/);
    await expect(wal.sync()).rejects.toBeInstanceOf(WalSyncError);
    expect(calls).toHaveLength(1);
    await wal.close();
  });

  it('fails rather than promise durability when the WAL file is not there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canopy-wal-sync-'));
    dirs.push(dir);
    await expect(new WalSync(join(dir, 'missing.sqlite-wal')).sync()).rejects.toThrow(/ENOENT/);
  });

  it('makes the database not ready once a sync failed (/readyz), and every later sync fail', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canopy-wal-sync-'));
    dirs.push(dir);
    const eio = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    const database = openDatabase(`sqlite:${join(dir, 'db.sqlite')}`, { syncFile: (_fd, done) => done(eio) });
    try {
      await sql`create table t (x integer)`.execute(database.db);
      await database.ping();
      await expect(database.sqlite!.syncWal()).rejects.toBeInstanceOf(WalSyncError);
      await expect(database.ping()).rejects.toThrow(/syncing the SQLite WAL failed: EIO/);
      await expect(database.sqlite!.syncWal()).rejects.toBeInstanceOf(WalSyncError);
    } finally {
      await database.close();
    }
  });
});
