/**
 * The durable log append (`MapContentStore.append`) on every dialect: on SQLite as prepared statements
 * (sqlite-log-writer.ts), on PostgreSQL and MySQL as `MapsRepository.appendEntries`; both keep the same rules.
 */
import { MindMap } from '@canopy/model';
import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { ManualClock } from '../../platform/clock.ts';
import { describeEachDialect } from '../../platform/db/testing.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { MapContentStore, plaintextSealer } from './content.ts';
import { MapsRepository } from './repository.ts';
import { MapsService } from './service.ts';
import { testIdentity } from './testing.ts';

describeEachDialect('map log append', (h) => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  let content: MapContentStore;
  let service: MapsService;

  beforeAll(() => {
    content = new MapContentStore(h.database, plaintextSealer, clock, false);
    service = new MapsService(h.database, content, testIdentity, clock);
  });

  const newMap = async (tenantId = 't1') =>
    (await service.create({ accountId: 'owner', tenantId }, 'Map')).id;

  /** `n` distinct updates of a fresh replica of a new map. */
  const updates = (n: number) => {
    const map = MindMap.create('Map');
    return Array.from({ length: n }, (_, i) => {
      const before = map.versionVector();
      map.addTopic(map.centralTopicId(), undefined, { text: `topic ${i}` });
      const update = map.exportUpdatesSince(before);
      if (!update.ok) throw new Error(update.error.message);
      return update.value;
    });
  };

  const logOf = (tenantId: string, mapId: string) =>
    withTenant(h.database, tenantId, (scope) => new MapsRepository(scope).logAfter(mapId, 0));

  it('gives consecutive batches dense seqs and stores each entry as sent', async () => {
    const id = await newMap();
    const [a, b, c] = updates(3);
    const first = await content.append('t1', id, [
      { accountId: 'owner', data: a! },
      { accountId: 'owner', data: b! },
    ]);
    expect(first).toEqual({ kind: 'appended', firstSeq: 1, headSeq: 2, accepted: [true, true] });
    const second = await content.append('t1', id, [{ accountId: 'owner', data: c! }]);
    expect(second).toEqual({ kind: 'appended', firstSeq: 3, headSeq: 3, accepted: [true] });
    const log = await logOf('t1', id);
    expect(log.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(log.map((e) => Buffer.from(e.data).subarray(1))).toEqual([a, b, c].map((u) => Buffer.from(u!)));
  });

  it("refuses the entries of authors who may not write, in the same batch as others' (a demotion counts at once)", async () => {
    const id = await newMap();
    await withTenant(h.database, 't1', async (scope) => {
      const repo = new MapsRepository(scope);
      await repo.upsertShare(id, 'ed', 'editor', 0);
      await repo.upsertShare(id, 'vi', 'viewer', 0);
    });
    const [a, b, c, d] = updates(4);
    const r = await content.append('t1', id, [
      { accountId: 'ed', data: a! },
      { accountId: 'vi', data: b! },
      { accountId: 'stranger', data: c! },
      { accountId: 'owner', data: d! },
    ]);
    expect(r).toEqual({ kind: 'appended', firstSeq: 1, headSeq: 2, accepted: [true, false, false, true] });
    await withTenant(h.database, 't1', (scope) =>
      new MapsRepository(scope).upsertShare(id, 'ed', 'viewer', 0),
    );
    const after = await content.append('t1', id, [{ accountId: 'ed', data: c! }]);
    expect(after).toEqual({ kind: 'appended', firstSeq: 3, headSeq: 2, accepted: [false] });
    expect((await logOf('t1', id)).map((e) => e.seq)).toEqual([1, 2]);
  });

  it("commits a room's entries as append does, the same rules and seqs, durable once `durable` resolves", async () => {
    const id = await newMap();
    await withTenant(h.database, 't1', (scope) =>
      new MapsRepository(scope).upsertShare(id, 'vi', 'viewer', 0),
    );
    const [a, b, c] = updates(3);
    const relayed: boolean[][] = [];
    const { durable, ...first } = await content.commit(
      't1',
      id,
      [
        { accountId: 'owner', data: a! },
        { accountId: 'vi', data: b! },
      ],
      (accepted) => relayed.push(accepted),
    );
    expect(first).toEqual({ kind: 'appended', firstSeq: 1, headSeq: 1, accepted: [true, false] });
    expect(relayed).toEqual([[true, false]]);
    await durable;
    expect(await content.append('t1', id, [{ accountId: 'owner', data: c! }])).toEqual({
      kind: 'appended',
      firstSeq: 2,
      headSeq: 2,
      accepted: [true],
    });
    expect((await logOf('t1', id)).map((e) => e.seq)).toEqual([1, 2]);
    const gone = await content.commit('t2', id, [{ accountId: 'owner', data: c! }], (accepted) =>
      relayed.push(accepted),
    );
    expect(gone.kind).toBe('gone');
    expect(relayed).toHaveLength(1);
    await gone.durable;
    if (h.database.dialect === 'sqlite') {
      // Only the room's own transaction skips SQLite's sync (the WAL is synced for it): the connection is FULL.
      const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(h.database.db);
      expect(rows[0]?.synchronous).toBe(2);
    }
  });

  it('hands back a failed WAL sync as a rejected `durable`, handled until the caller awaits it', async () => {
    const sqlite = h.database.sqlite;
    if (!sqlite) return; // PostgreSQL and MySQL: a commit is durable when it returns
    const id = await newMap();
    const [a] = updates(1);
    // Not a vi.spyOn: a spy handles the promises its mock returns, which would hide what this test looks for.
    const original = Object.getOwnPropertyDescriptor(sqlite, 'syncWal')!;
    Object.defineProperty(sqlite, 'syncWal', {
      value: () => Promise.reject(new Error('EIO: i/o error, fdatasync')),
      configurable: true,
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { durable } = await content.commit('t1', id, [{ accountId: 'owner', data: a! }], () => undefined);
      // The room awaits other work first (a rebuild, say): an unhandled rejection meanwhile would kill Node.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
      await expect(durable).rejects.toThrow(/EIO/);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      Object.defineProperty(sqlite, 'syncWal', original);
    }
  });

  it("answers 'gone' for a deleted map and for another tenant's map, and writes nothing", async () => {
    const id = await newMap();
    const [a] = updates(1);
    expect(await content.append('t2', id, [{ accountId: 'owner', data: a! }])).toEqual({ kind: 'gone' });
    expect(await logOf('t1', id)).toEqual([]);
    expect((await content.readAfter('t1', id, 0))?.headSeq).toBe(0);
    await withTenant(h.database, 't1', (scope) => new MapsRepository(scope).deleteMap(id));
    expect(await content.append('t1', id, [{ accountId: 'owner', data: a! }])).toEqual({ kind: 'gone' });
  });

  it('keeps seqs dense under concurrent appends to one map', async () => {
    const id = await newMap();
    const all = updates(40);
    const results = await Promise.all(
      all.map((data) => content.append('t1', id, [{ accountId: 'owner', data }])),
    );
    const seqs = results.map((r) => (r.kind === 'appended' ? r.firstSeq : -1)).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect((await logOf('t1', id)).map((e) => e.seq)).toEqual(seqs);
  });

  it('folds the log into the snapshot (compaction), and appends go on after it', async () => {
    const id = await newMap();
    const all = updates(4);
    for (const data of all.slice(0, 3)) await content.append('t1', id, [{ accountId: 'owner', data }]);
    expect(
      await content.compactTo('t2', id, { snapshot: new Uint8Array(), title: 'x', seq: 3 }),
    ).toBeUndefined();
    expect(await content.compact('t1', id)).toEqual({ folded: 3 });
    expect(await content.compact('t1', id)).toEqual({ folded: 0 });
    const tail = await content.readAfter('t1', id, -1);
    expect(tail).toMatchObject({ headSeq: 3, entries: [] });
    expect(await content.append('t1', id, [{ accountId: 'owner', data: all[3]! }])).toMatchObject({
      firstSeq: 4,
    });
    expect((await content.load('t1', id))?.seq).toBe(4);
    expect((await logOf('t1', id)).map((e) => e.seq)).toEqual([4]);
  });

  it('commits both a main-connection transaction that reads then writes and an append made meanwhile', async () => {
    const id = await newMap();
    const [a] = updates(1);
    let append: Promise<unknown> | undefined;
    await withTenant(h.database, 't1', async (scope) => {
      const repo = new MapsRepository(scope);
      expect(await repo.headOf(id)).toEqual({ snapshotSeq: 0, headSeq: 0 });
      // On SQLite the append runs on another connection: give it the chance to commit between our read and
      // our write (a DEFERRED transaction would then fail with SQLITE_BUSY_SNAPSHOT).
      append = content.append('t1', id, [{ accountId: 'owner', data: a! }]);
      await Promise.race([append, new Promise((resolve) => setTimeout(resolve, 100))]);
      await repo.setTitle(id, 'Renamed meanwhile');
    });
    expect(await append).toMatchObject({ kind: 'appended', firstSeq: 1, headSeq: 1 });
    const row = await withTenant(h.database, 't1', (scope) => new MapsRepository(scope).findMap(id));
    expect(row).toMatchObject({ title: 'Renamed meanwhile', head_seq: 1 });
  });
});
