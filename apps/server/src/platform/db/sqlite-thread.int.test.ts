/**
 * SQLite's writer thread (sqlite-thread.ts) beside the main connection (sqlite-dialect.ts): two connections to
 * one file take turns at the write lock without failing, and without the main thread sleeping while it waits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from './connect.ts';
import { isUniqueViolation } from './errors.ts';
import { migrateToLatest } from './migrator.ts';
import { ProbeRepository } from './probe-repository.ts';
import { probeProcedures } from './probe-procedures.ts';
import { withTenant } from './tenant.ts';

describe('SQLite writer thread', () => {
  let dir: string;
  let file: string;
  let database: Database;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'canopy-sqlite-thread-'));
    file = join(dir, 'test.sqlite');
    database = openDatabase(`sqlite:${file}`);
    await migrateToLatest(database);
  });
  afterEach(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const host = () => {
    const sqlite = database.sqlite;
    if (!sqlite) throw new Error('not SQLite');
    return sqlite.host(probeProcedures);
  };
  const labels = () => withTenant(database, 't1', (scope) => new ProbeRepository(scope).list());

  it('runs calls on its own connection, in order, and its commits are visible to the main connection', async () => {
    expect(database.sqlite?.threaded).toBe(true);
    const counts = await Promise.all(['a', 'b', 'c'].map((id) => host().call('add', { tenantId: 't1', id })));
    expect(counts).toEqual([1, 2, 3]);
    expect(await labels()).toHaveLength(3);
  });

  it('commits a main-connection transaction that reads, lets the thread commit, then writes (BEGIN IMMEDIATE)', async () => {
    await host().call('add', { tenantId: 't1', id: 'warm' });
    let call: Promise<number> | undefined;
    await withTenant(database, 't1', async (scope) => {
      const repo = new ProbeRepository(scope);
      expect(await repo.list()).toHaveLength(1);
      call = host().call('add', { tenantId: 't1', id: 'thread' });
      // A DEFERRED transaction fails here with SQLITE_BUSY if the thread committed in between.
      await Promise.race([call, new Promise((resolve) => setTimeout(resolve, 100))]);
      await repo.add('main', 0);
    });
    expect(await call).toBe(3);
    expect(await labels()).toHaveLength(3);
  });

  it('waits for another connection’s write lock with the event loop running, then commits', async () => {
    const other = new SQLite(file);
    other.exec('begin immediate');
    let turns = 0;
    let done = false;
    const write = withTenant(database, 't1', (scope) => new ProbeRepository(scope).add('main', 0)).then(
      () => (done = true),
    );
    // The event loop keeps turning while the main connection waits (a busy timeout would block it here).
    while (turns < 20) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      turns++;
    }
    expect(done).toBe(false);
    other.exec('commit');
    other.close();
    await write;
    expect(await labels()).toEqual([expect.objectContaining({ label: 'main' })]);
  });

  it('lets a main-connection transaction in while the thread commits back to back', async () => {
    let streamed = 0;
    let stop = false;
    const stream = (async () => {
      while (!stop && streamed < 2000) {
        await host().call('add', { tenantId: 't1', id: `s${streamed}` });
        streamed++;
      }
    })();
    await host().call('add', { tenantId: 't1', id: 'warm' });
    await withTenant(database, 't1', (scope) => new ProbeRepository(scope).add('main', 0));
    // Polling alone would almost never find the lock free between the thread's transactions.
    expect(streamed).toBeLessThan(2000);
    stop = true;
    await stream;
  });

  it('lets a read-only transaction read while another connection holds the write lock', async () => {
    await withTenant(database, 't1', (scope) => new ProbeRepository(scope).add('before', 0));
    const other = new SQLite(file);
    try {
      other.exec('begin immediate');
      const read = await withTenant(database, 't1', (scope) => new ProbeRepository(scope).list(), {
        readOnly: true,
      });
      expect(read).toHaveLength(1);
    } finally {
      other.exec('commit');
      other.close();
    }
  });

  it('passes a statement’s error back with SQLite’s code', async () => {
    await host().call('add', { tenantId: 't1', id: 'same' });
    const err = await host()
      .call('add', { tenantId: 't1', id: 'same' })
      .catch((e: unknown) => e);
    expect(isUniqueViolation(err)).toBe(true);
  });

  it('fails the calls waiting on a thread that dies, and the next call starts a new one', async () => {
    await host().call('add', { tenantId: 't1', id: 'before' });
    const waiting = host().call('add', { tenantId: 't1', id: 'queued' });
    const crashed = host().call('crash', { tenantId: 't1', id: '' });
    await expect(crashed).rejects.toThrow(/exited \(code 7\)/);
    // 'queued' was posted before the crash: it ran, or it fails; it never hangs.
    await waiting.catch(() => undefined);
    expect(await host().call('add', { tenantId: 't1', id: 'after' })).toBeGreaterThanOrEqual(2);
  });

  it('answers the calls already made before it closes', async () => {
    const calls = Array.from({ length: 20 }, (_, i) => host().call('add', { tenantId: 't1', id: `${i}` }));
    const closing = database.close();
    expect(await Promise.all(calls)).toHaveLength(20);
    await closing;
    database = openDatabase(`sqlite:${file}`);
    expect(await labels()).toHaveLength(20);
  });

  it('runs inline on an in-memory database (no other connection can open it)', async () => {
    const memory = openDatabase('sqlite::memory:');
    try {
      await migrateToLatest(memory);
      expect(memory.sqlite?.threaded).toBe(false);
      expect(await memory.sqlite?.host(probeProcedures).call('add', { tenantId: 't1', id: 'x' })).toBe(1);
    } finally {
      await memory.close();
    }
  });
});
