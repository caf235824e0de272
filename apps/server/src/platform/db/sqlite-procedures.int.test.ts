/**
 * SQLite's prepared procedures (sqlite-procedures.ts) beside Kysely's transactions on the same connection, and
 * the IMMEDIATE dialect (sqlite-dialect.ts) beside another connection to the same file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from './connect.ts';
import { isSqliteBusy } from './sqlite.ts';
import { isUniqueViolation } from './errors.ts';
import { migrateToLatest } from './migrator.ts';
import { ProbeRepository } from './probe-repository.ts';
import { probeProcedures } from './probe-procedures.ts';
import { withTenant } from './tenant.ts';

describe('SQLite procedures and transactions', () => {
  let dir: string;
  let file: string;
  let database: Database;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'canopy-sqlite-procedures-'));
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

  it('runs calls in order, and their commits are visible to Kysely’s queries', async () => {
    const counts = await Promise.all(['a', 'b', 'c'].map((id) => host().call('add', { tenantId: 't1', id })));
    expect(counts).toEqual([1, 2, 3]);
    expect(await labels()).toHaveLength(3);
  });

  it('runs a call after the transaction that holds the connection, never inside it', async () => {
    let call: Promise<number> | undefined;
    await withTenant(database, 't1', async (scope) => {
      const repo = new ProbeRepository(scope);
      await repo.add('main', 0);
      call = host().call('add', { tenantId: 't1', id: 'procedure' });
      // A call run now would fail (a transaction cannot begin inside another) or commit this one's row early.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await repo.list()).toHaveLength(1);
    });
    expect(await call).toBe(2);
  });

  it('runs a call at once when no transaction holds the connection, and waiting calls keep their order', async () => {
    const reader = new SQLite(file, { readonly: true });
    const stored = () => (reader.prepare('select count(*) as n from probe_items').get() as { n: number }).n;
    try {
      // Committed before the call returns its promise: nothing waited.
      const first = host().call('add', { tenantId: 't1', id: 'at-once' });
      expect(stored()).toBe(1);
      expect(await first).toBe(1);
      // Calls made while a transaction holds the connection wait, and so does one made after it ended while
      // they still wait: it would otherwise overtake them.
      let waiting: Promise<number>[] = [];
      let release!: () => void;
      const held = withTenant(database, 't1', async (scope) => {
        await new ProbeRepository(scope).add('main', 0);
        waiting = ['a', 'b'].map((id) => host().call('add', { tenantId: 't1', id }));
        await new Promise<void>((resolve) => (release = resolve));
      });
      await new Promise((resolve) => setTimeout(resolve, 5));
      release();
      await held;
      const last = host().call('add', { tenantId: 't1', id: 'c' });
      expect(await Promise.all([...waiting, last])).toEqual([3, 4, 5]);
      // And once nothing waits, at once again.
      void host().call('add', { tenantId: 't1', id: 'd' });
      expect(stored()).toBe(6);
    } finally {
      reader.close();
    }
  });

  it('leaves nothing behind when a call throws, and passes SQLite’s code back', async () => {
    await host().call('add', { tenantId: 't1', id: 'same' });
    const err = await host()
      .call('add', { tenantId: 't1', id: 'same' })
      .catch((e: unknown) => e);
    expect(isUniqueViolation(err)).toBe(true);
    expect(await labels()).toHaveLength(1);
    expect(await host().call('add', { tenantId: 't1', id: 'next' })).toBe(2);
  });

  it('holds the write lock from the start of a transaction (BEGIN IMMEDIATE)', async () => {
    const other = new SQLite(file);
    other.pragma('busy_timeout = 0');
    try {
      await withTenant(database, 't1', async (scope) => {
        const repo = new ProbeRepository(scope);
        expect(await repo.list()).toHaveLength(0);
        // A DEFERRED transaction would hold no lock after a read: the other connection could commit here and
        // the write below would fail with SQLITE_BUSY_SNAPSHOT.
        let err: unknown;
        try {
          other.exec(
            "insert into probe_items (tenant_id, id, label, created_at) values ('t1', 'x', 'other', 0)",
          );
        } catch (e) {
          err = e;
        }
        expect(isSqliteBusy(err)).toBe(true);
        await repo.add('main', 0);
      });
    } finally {
      other.close();
    }
    expect(await labels()).toEqual([expect.objectContaining({ label: 'main' })]);
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

  it('runs on an in-memory database too', async () => {
    const memory = openDatabase('sqlite::memory:');
    try {
      await migrateToLatest(memory);
      expect(await memory.sqlite?.host(probeProcedures).call('add', { tenantId: 't1', id: 'x' })).toBe(1);
    } finally {
      await memory.close();
    }
  });
});
