import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MindMap } from '@canopy/model';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { commands as keyCommands } from '../../cli/keys.ts';
import { ManualClock } from '../../platform/clock.ts';
import { createTestCrypto, type TestCrypto } from '../../platform/crypto/testing.ts';
import { describeEachDialect } from '../../platform/db/testing.ts';
import { withSystemContext, withTenant } from '../../platform/db/tenant.ts';
import { MapContentStore } from './content.ts';
import { MAP_CONTENT_KEY_USER, mapContentKeyUser, registerMapContentKeys } from './content-keys.ts';
import type { ContentSealer, SealRef } from './ports.ts';
import { ContentRowsRepository, type ContentTable } from './content-rows.ts';
import { MapsRepository } from './repository.ts';
import { mapsModule } from './index.ts';
import { MapsService } from './service.ts';
import { createModuleTestApp, type ModuleTestApp } from './test-app.ts';
import { testAuthorization, testIdentity } from './testing.ts';

const TABLES: ContentTable[] = ['maps', 'map_versions', 'map_updates'];
const owner = (tenantId: string) => ({ accountId: 'owner', tenantId });

describeEachDialect('map content under tenant key rotation', (h) => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  let crypto: TestCrypto;
  let content: MapContentStore;
  let service: MapsService;

  beforeAll(() => {
    crypto = createTestCrypto(h.database, clock);
    content = new MapContentStore(h.database, crypto.cipher, clock, true);
    service = new MapsService(h.database, content, testIdentity, clock);
    // Small pages, so that every table is read and written over several batches.
    registerMapContentKeys(crypto.dataKeys, h.database, content, { logBatchSize: 50, snapshotBatchSize: 2 });
  });
  afterAll(() => crypto.cleanup());

  /** Appends `n` edits (one log row each) made on `map`, the caller's replica of the stored map. */
  const edit = async (tenantId: string, mapId: string, map: MindMap, n: number, tag = 'topic') => {
    const updates: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const before = map.versionVector();
      map.addTopic(map.centralTopicId(), undefined, { text: `${tag} ${i}` });
      const update = map.exportUpdatesSince(before);
      if (!update.ok) throw new Error(update.error.message);
      updates.push(update.value);
    }
    for (let i = 0; i < updates.length; i += 100) {
      const r = await content.append(
        tenantId,
        mapId,
        updates.slice(i, i + 100).map((data) => ({ accountId: 'owner', data })),
      );
      expect(r).toMatchObject({ kind: 'appended' });
    }
    return updates;
  };

  const newMap = async (tenantId: string, title: string) => {
    const { id } = await service.create(owner(tenantId), title);
    const loaded = await content.load(tenantId, id);
    return { id, map: loaded!.map };
  };

  const documentOf = async (tenantId: string, mapId: string) =>
    (await content.load(tenantId, mapId))!.map.toJSON();

  const versionDocuments = async (tenantId: string, mapId: string) => {
    const out: Record<string, unknown> = {};
    for (const v of await service.versions(owner(tenantId), mapId)) {
      const stored = await withTenant(h.database, tenantId, (scope) =>
        new MapsRepository(scope).findVersion(mapId, v.id),
      );
      const opened = MindMap.fromSnapshot(await content.openVersion(tenantId, v.id, stored!.snapshot));
      if (!opened.ok) throw new Error(opened.error.message);
      out[v.id] = opened.value.toJSON();
    }
    return out;
  };

  /** Every stored content value of a tenant, as hex, by place. */
  const rawContent = (tenantId: string) =>
    withTenant(h.database, tenantId, async (scope) => {
      const repo = new ContentRowsRepository(scope);
      const out = new Map<string, string>();
      for (const table of TABLES) {
        for (let page = await repo.contentHeads(table, undefined, 500, 6); page.length;) {
          const keys = page.map((r) => r.key);
          for (const { key, value } of await repo.contentValues(table, keys))
            out.set(`${table} ${key.id} ${key.seq}`, Buffer.from(value).toString('hex'));
          page = await repo.contentHeads(table, keys.at(-1), 500, 6);
        }
      }
      return out;
    });

  const versionsInUse = (tenantId: string) => mapContentKeyUser(h.database, content).versionsInUse(tenantId);

  const dataKeyStates = (tenantId: string) =>
    withSystemContext(h.database, 'test', (trx) =>
      trx
        .selectFrom('tenant_data_keys')
        .select(['version', 'state', 'wrapped_key'])
        .where('tenant_id', '=', tenantId)
        .where('purpose', '=', 'data')
        .orderBy('version')
        .execute(),
    ).then((rows) => rows.map((r) => [Number(r.version), r.state, r.wrapped_key === null]));

  it('re-seals every snapshot, version and log row of the rotated tenant; the old key is destroyed; maps open unchanged; other tenants are untouched', async () => {
    const big = await newMap('t-rot', 'Big');
    await edit('t-rot', big.id, big.map, 1_000);
    const compacted = await newMap('t-rot', 'Compacted');
    await edit('t-rot', compacted.id, compacted.map, 120);
    await service.saveVersion(owner('t-rot'), compacted.id, 'at 120');
    expect(await content.compact('t-rot', compacted.id)).toEqual({ folded: 120 });
    await edit('t-rot', compacted.id, compacted.map, 30, 'after');
    await service.saveVersion(owner('t-rot'), compacted.id, 'at 150');
    await service.saveVersion(owner('t-rot'), big.id, 'big');
    const empty = await newMap('t-rot', 'Empty');

    const other = await newMap('t-other', 'Other');
    await edit('t-other', other.id, other.map, 60);
    await service.saveVersion(owner('t-other'), other.id, 'other');

    const maps = [big, compacted, empty];
    const before = new Map<string, unknown>();
    for (const m of maps) {
      before.set(m.id, await documentOf('t-rot', m.id));
      expect(before.get(m.id)).toEqual(m.map.toJSON());
    }
    const versionsBefore = {
      ...(await versionDocuments('t-rot', big.id)),
      ...(await versionDocuments('t-rot', compacted.id)),
    };
    const rows = (await rawContent('t-rot')).size;
    expect(rows).toBe(3 + 3 + 1_000 + 30); // snapshots, versions, log rows
    expect(await versionsInUse('t-rot')).toEqual(new Map([[1, rows]]));
    const otherBefore = await rawContent('t-other');

    expect(crypto.dataKeys.registeredUsers()).toContain(MAP_CONTENT_KEY_USER);
    expect(await crypto.dataKeys.rotate('t-rot')).toEqual({ from: 1, to: 2 });
    clock.advance(crypto.keys.cacheTtlMs + 1_000);
    const t0 = performance.now();
    const pass = await crypto.dataKeys.reencryptTenant('t-rot');
    const ms = performance.now() - t0;
    expect(pass).toEqual({ resealed: rows, retired: [1], pending: [] });
    expect(await versionsInUse('t-rot')).toEqual(new Map([[2, rows]]));
    expect(await dataKeyStates('t-rot')).toEqual([
      [1, 'retired', true],
      [2, 'active', false],
    ]);

    crypto.keys.invalidate();
    for (const m of maps) expect(await documentOf('t-rot', m.id)).toEqual(before.get(m.id));
    expect({
      ...(await versionDocuments('t-rot', big.id)),
      ...(await versionDocuments('t-rot', compacted.id)),
    }).toEqual(versionsBefore);

    expect(await rawContent('t-other')).toEqual(otherBefore);
    expect(await versionsInUse('t-other')).toEqual(new Map([[1, otherBefore.size]]));
    expect(await documentOf('t-other', other.id)).toEqual(other.map.toJSON());
    // A second pass finds nothing left to do.
    expect(await crypto.dataKeys.reencryptTenant('t-rot')).toEqual({ resealed: 0, retired: [], pending: [] });
    console.log(
      `[${h.dialect}] tenant key rotation: ${rows} map content values (3 snapshots, 3 versions, 1,030 log rows, ` +
        `1,000 in one map) re-sealed in ${ms.toFixed(0)} ms (${Math.round((rows / ms) * 1000)} per second, ` +
        'pages of 50 log rows / 2 snapshots)',
    );
  });

  it('loses nothing to compactions and appends that land during the pass (between a page read and its write, and between pages)', async () => {
    const tenantId = 't-race';
    const { id, map } = await newMap(tenantId, 'Race');
    const initial = (await content.readAfter(tenantId, id, -1))!.snapshot!;
    const updates = await edit(tenantId, id, map, 300);
    await service.saveVersion(owner(tenantId), id, 'v');
    await crypto.dataKeys.rotate(tenantId);

    const stateAt = (seq: number) => {
      const m = MindMap.fromSnapshotAndUpdates(initial, updates.slice(0, seq));
      if (!m.ok) throw new Error(m.error.message);
      return { snapshot: m.value.exportSnapshot(), title: m.value.toJSON().title, seq };
    };
    // The pass's store seals through this hook, which lets a "room" and the compactor act at set moments.
    const events: string[] = [];
    let snapshotSeals = 0;
    let logSeals = 0;
    const hooked: ContentSealer = {
      seal: async (t, ref: SealRef, plaintext) => {
        if (ref.table === 'maps' && ++snapshotSeals === 1) {
          // The snapshot was read under key 1; a compaction replaces it (under key 2) before it is written back.
          expect(await content.compactTo(tenantId, id, stateAt(100))).toEqual({ folded: 100 });
          events.push('compacted to 100');
        }
        if (ref.table === 'map_updates' && ++logSeals === 10) {
          // Mid-page (rows 101..150 read): rows 101..130 are folded and deleted, five rows are appended.
          expect(await content.compactTo(tenantId, id, stateAt(130))).toEqual({ folded: 30 });
          await edit(tenantId, id, map, 5, 'during a page');
          events.push('compacted to 130, appended 301..305');
        }
        return crypto.cipher.seal(t, ref, plaintext);
      },
      open: (t, ref, sealed) => crypto.cipher.open(t, ref, sealed),
      sealerFor: (t, ref) => crypto.cipher.sealerFor(t, ref),
    };
    const racing = mapContentKeyUser(h.database, new MapContentStore(h.database, hooked, clock, true), {
      logBatchSize: 50,
      snapshotBatchSize: 2,
    });
    let heartbeats = 0;
    const heartbeat = async () => {
      heartbeats++;
      if (logSeals > 0 && !events.some((e) => e.startsWith('appended 306'))) {
        await edit(tenantId, id, map, 5, 'between pages');
        events.push('appended 306..310');
      }
    };
    const unreadable: unknown[] = [];
    const resealed = await racing.reencrypt(tenantId, 2, heartbeat, (v) => unreadable.push(v));

    expect(events).toEqual(['compacted to 100', 'compacted to 130, appended 301..305', 'appended 306..310']);
    // The snapshot lost its race (the compactor's is newer); the version; rows 131..150 of the first log page
    // (101..130 were folded meanwhile); rows 151..300. Rows 301..310 were written under key 2.
    expect(resealed).toBe(0 + 1 + 20 + 150);
    expect(unreadable).toEqual([]);
    expect(heartbeats).toBe(6); // the pages that had work: snapshots, versions, four of the log
    expect(await versionsInUse(tenantId)).toEqual(new Map([[2, 1 + 1 + 180]]));

    // The log is still dense after the snapshot, every edit is there once, and the map opens as the room has it.
    const head = await withTenant(h.database, tenantId, (scope) => new MapsRepository(scope).headOf(id));
    expect(head).toEqual({ snapshotSeq: 130, headSeq: 310 });
    const log = await withTenant(h.database, tenantId, (scope) => new MapsRepository(scope).logAfter(id, 0));
    expect(log.map((e) => e.seq)).toEqual(Array.from({ length: 180 }, (_, i) => 131 + i));
    crypto.keys.invalidate();
    const doc = await documentOf(tenantId, id);
    expect(doc).toEqual(map.toJSON());
    expect(JSON.stringify(doc).match(/"text":"(topic|during a page|between pages) \d+"/g)).toHaveLength(310);

    clock.advance(crypto.keys.cacheTtlMs + 1_000);
    expect(await crypto.dataKeys.reencryptTenant(tenantId)).toEqual({
      resealed: 0,
      retired: [1],
      pending: [],
    });
  });

  it('does not bring back a map deleted during the pass', async () => {
    const tenantId = 't-deleted';
    const { id, map } = await newMap(tenantId, 'Deleted');
    await edit(tenantId, id, map, 120);
    await service.saveVersion(owner(tenantId), id, 'v');
    await crypto.dataKeys.rotate(tenantId);
    const hooked: ContentSealer = {
      seal: async (t, ref: SealRef, plaintext) => {
        // The first log page has been read; the owner deletes the map before it is written back.
        if (ref.table === 'map_updates' && (await rawContent(tenantId)).size > 0)
          await service.remove(owner(tenantId), id);
        return crypto.cipher.seal(t, ref, plaintext);
      },
      open: (t, ref, sealed) => crypto.cipher.open(t, ref, sealed),
      sealerFor: (t, ref) => crypto.cipher.sealerFor(t, ref),
    };
    const user = mapContentKeyUser(h.database, new MapContentStore(h.database, hooked, clock, true), {
      logBatchSize: 50,
    });
    expect(await user.reencrypt(tenantId, 2, async () => {})).toBe(1 + 1); // the snapshot and the version
    expect((await rawContent(tenantId)).size).toBe(0);
    clock.advance(crypto.keys.cacheTtlMs + 1_000);
    expect(await crypto.dataKeys.reencryptTenant(tenantId)).toEqual({
      resealed: 0,
      retired: [1],
      pending: [],
    });
  });

  it('reports a row that does not open, leaves it as it was, and keeps its key', async () => {
    const tenantId = 't-bad';
    const { id, map } = await newMap(tenantId, 'Bad');
    await edit(tenantId, id, map, 10);
    await crypto.dataKeys.rotate(tenantId);
    const corrupt = await withTenant(h.database, tenantId, async ({ trx }) => {
      const row = await trx
        .selectFrom('map_updates')
        .select('data')
        .where('tenant_id', '=', tenantId)
        .where('map_id', '=', id)
        .where('seq', '=', 5)
        .executeTakeFirstOrThrow();
      const bytes = Buffer.from(row.data);
      bytes[bytes.length - 1]! ^= 0x01; // the GCM tag
      await trx
        .updateTable('map_updates')
        .set({ data: bytes })
        .where('tenant_id', '=', tenantId)
        .where('map_id', '=', id)
        .where('seq', '=', 5)
        .execute();
      return bytes.toString('hex');
    });
    clock.advance(crypto.keys.cacheTtlMs + 1_000);

    const pass = await crypto.dataKeys.reencryptTenant(tenantId);
    expect(pass).toEqual({
      resealed: 1 + 9,
      retired: [],
      pending: [1],
      unreadable: {
        count: 1,
        values: [
          {
            user: MAP_CONTENT_KEY_USER,
            where: `map_updates ${id} #5`,
            keyVersion: 1,
            reason: expect.stringMatching(/cannot decrypt/) as unknown,
          },
        ],
      },
    });
    expect((await rawContent(tenantId)).get(`map_updates ${id} 5`)).toBe(corrupt);
    expect(await versionsInUse(tenantId)).toEqual(
      new Map([
        [1, 1],
        [2, 10],
      ]),
    );
    expect(await dataKeyStates(tenantId)).toEqual([
      [1, 'retiring', false],
      [2, 'active', false],
    ]);
  });
});

describeEachDialect('map content: the operator path of a tenant key rotation', (h) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'canopy-maps-keys-'));
  const clock = new ManualClock(Date.now());
  let t: ModuleTestApp;
  beforeAll(async () => {
    t = await createModuleTestApp({ databaseUrl: h.url, dataDir, clock, maps: { identity: testIdentity } });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('`canopy keys rotate --tenant` queues the job that a server node runs: it re-seals that tenant’s maps and destroys the old key', async () => {
    const alice = { authorization: testAuthorization('alice', 'acme') };
    const call = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
      t.app.inject({ method, url: `/api/v1${url}`, headers: alice, ...(payload ? { payload } : {}) });
    const { id } = (await call('POST', '/maps', { title: 'Plans' })).json<{ id: string }>();
    expect((await call('PATCH', `/maps/${id}`, { title: 'Plans, renamed' })).statusCode).toBe(200);
    expect((await call('POST', `/maps/${id}/versions`, { name: 'v' })).statusCode).toBe(201);
    expect((await call('PATCH', `/maps/${id}`, { title: 'Plans, final' })).statusCode).toBe(200);
    const before = (await call('GET', `/maps/${id}/document`)).json<unknown>();
    const { content } = mapsModule(t.deps);
    const user = mapContentKeyUser(t.platform.database, content);
    expect(await user.versionsInUse('acme')).toEqual(new Map([[1, 4]])); // snapshot, version, two log rows
    expect(t.platform.crypto.dataKeys.registeredUsers()).toContain(MAP_CONTENT_KEY_USER);

    const rotate = keyCommands.find((c) => c.name === 'keys rotate')!;
    const env = { CANOPY_DATA_DIR: dataDir, CANOPY_DATABASE_URL: h.url, CANOPY_LOG_LEVEL: 'silent' };
    const quiet = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await rotate.run(['--tenant', 'acme'], env as NodeJS.ProcessEnv)).toBe(0);
    } finally {
      quiet.mockRestore();
    }
    // The job is due once every node's key cache has expired.
    clock.set(new Date(Date.now() + t.platform.crypto.keys.cacheTtlMs + 2_000));
    expect(await t.platform.jobs.drain()).toBeGreaterThanOrEqual(1);
    const jobs = await t.platform.jobs.list();
    expect(jobs.filter((j) => j.name === 'crypto.reencrypt_tenant').map((j) => j.state)).toEqual(['done']);

    expect(await user.versionsInUse('acme')).toEqual(new Map([[2, 4]]));
    const keys = await withSystemContext(t.platform.database, 'test', (trx) =>
      trx
        .selectFrom('tenant_data_keys')
        .select(['version', 'state'])
        .where('tenant_id', '=', 'acme')
        .where('purpose', '=', 'data')
        .orderBy('version')
        .execute(),
    );
    expect(keys.map((k) => [Number(k.version), k.state])).toEqual([
      [1, 'retired'],
      [2, 'active'],
    ]);
    expect((await call('GET', `/maps/${id}/document`)).json()).toEqual(before);
  });
});
