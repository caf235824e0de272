import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MindMap, loroHeapSize } from '@canopy/model';
import { withTenant } from '../../platform/db/tenant.ts';
import { createModuleTestApp, type ModuleTestApp } from './test-app.ts';
import { dialectsUnderTest, createTestDatabase, type TestDatabase } from '../../platform/db/testing.ts';
import { testAuthorization, testIdentity } from './testing.ts';

const alice = { authorization: testAuthorization('alice', 't1') };
const bob = { authorization: testAuthorization('bob', 't1') };
const mallory = { authorization: testAuthorization('mallory', 't2') };

for (const dialect of dialectsUnderTest()) {
  describe(`maps REST API [${dialect}]`, () => {
    let t: ModuleTestApp;
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createTestDatabase(dialect);
      t = await createModuleTestApp({ databaseUrl: db.url, maps: { identity: testIdentity } });
    });
    afterAll(async () => {
      await t.close();
      await db.drop();
    });

    const call = (
      method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
      url: string,
      headers: Record<string, string>,
      payload?: unknown,
    ) =>
      t.app.inject({
        method,
        url: `/api/v1${url}`,
        headers,
        ...(payload === undefined ? {} : { payload: payload as object }),
      });

    it('refuses an unauthenticated caller with 401', async () => {
      expect((await call('GET', '/maps', {})).statusCode).toBe(401);
    });

    it('creates, lists, reads and deletes a map; the owner role is reported', async () => {
      const created = await call('POST', '/maps', alice, { title: 'Plans' });
      expect(created.statusCode).toBe(201);
      const { id } = created.json<{ id: string }>();
      expect((await call('GET', `/maps/${id}`, alice)).json()).toMatchObject({
        id,
        title: 'Plans',
        role: 'owner',
      });
      expect(
        (await call('GET', '/maps', alice)).json<{ items: { id: string }[] }>().items.map((m) => m.id),
      ).toContain(id);
      const doc = (await call('GET', `/maps/${id}/document`, alice)).json<{
        title: string;
        root: { text: string };
      }>();
      expect(doc.root.text).toBe('Plans');
      expect((await call('DELETE', `/maps/${id}`, alice)).statusCode).toBe(204);
      expect((await call('GET', `/maps/${id}`, alice)).statusCode).toBe(404);
    });

    it("answers 404 for another tenant's map and 403 for an unshared map of the caller's tenant", async () => {
      const { id } = (await call('POST', '/maps', alice, { title: 'Secret' })).json<{ id: string }>();
      expect((await call('GET', `/maps/${id}`, mallory)).statusCode).toBe(404);
      expect((await call('GET', `/maps/${id}/document`, mallory)).statusCode).toBe(404);
      expect((await call('DELETE', `/maps/${id}`, mallory)).statusCode).toBe(404);
      expect((await call('GET', `/maps/${id}`, bob)).statusCode).toBe(403);
    });

    it('shares as viewer, then editor; only the owner shares and deletes', async () => {
      const { id } = (await call('POST', '/maps', alice, { title: 'Shared' })).json<{ id: string }>();
      expect(
        (await call('POST', `/maps/${id}/shares`, alice, { email: 'bob@t1', role: 'viewer' })).statusCode,
      ).toBe(201);
      expect((await call('GET', `/maps/${id}`, bob)).json()).toMatchObject({ role: 'viewer' });
      expect(
        (await call('POST', `/maps/${id}/shares`, alice, { email: 'bob@t1', role: 'editor' })).statusCode,
      ).toBe(201);
      expect((await call('GET', `/maps/${id}`, bob)).json()).toMatchObject({ role: 'editor' });
      expect(
        (await call('POST', `/maps/${id}/shares`, bob, { email: 'carol@t1', role: 'viewer' })).statusCode,
      ).toBe(403);
      expect((await call('DELETE', `/maps/${id}`, bob)).statusCode).toBe(403);
      expect(
        (await call('POST', `/maps/${id}/shares`, alice, { email: 'mallory@t2', role: 'viewer' })).statusCode,
      ).toBe(422);
      expect(
        (await call('GET', '/maps', bob)).json<{ items: { id: string; role: string }[] }>().items,
      ).toContainEqual(expect.objectContaining({ id, role: 'editor' }));
    });

    it('renames a map (owner or editor, not viewer): the list and the document title follow', async () => {
      const { id } = (await call('POST', '/maps', alice, { title: 'Draft' })).json<{ id: string }>();
      const renamed = await call('PATCH', `/maps/${id}`, alice, { title: 'Final plan' });
      expect(renamed.statusCode).toBe(200);
      expect(renamed.json()).toMatchObject({ id, title: 'Final plan', role: 'owner' });
      const listed = (await call('GET', '/maps', alice)).json<{ items: { id: string; title: string }[] }>();
      expect(listed.items.find((m) => m.id === id)?.title).toBe('Final plan');
      const doc = (await call('GET', `/maps/${id}/document`, alice)).json<{ title: string }>();
      expect(doc.title).toBe('Final plan');

      await call('POST', `/maps/${id}/shares`, alice, { email: 'bob@t1', role: 'viewer' });
      expect((await call('PATCH', `/maps/${id}`, bob, { title: 'Mine now' })).statusCode).toBe(403);
      await call('POST', `/maps/${id}/shares`, alice, { email: 'bob@t1', role: 'editor' });
      expect((await call('PATCH', `/maps/${id}`, bob, { title: 'Ours' })).statusCode).toBe(200);
      expect((await call('PATCH', `/maps/${id}`, alice, { title: '' })).statusCode).toBe(400);
      expect((await call('PATCH', `/maps/${id}`, mallory, { title: 'x' })).statusCode).toBe(404);
    });

    it('saves named versions and restores one as a new change', async () => {
      const { id } = (await call('POST', '/maps', alice, { title: 'V' })).json<{ id: string }>();
      const v1 = (await call('POST', `/maps/${id}/versions`, alice, { name: 'first' })).json<{
        id: string;
      }>();
      expect(v1.id).toBeTruthy();
      // Change the map through the store the collab rooms use, then restore.
      const { content } = (await import('./index.ts')).mapsModule(t.deps);
      const loaded = await content.load('t1', id);
      const map = loaded!.map;
      let update: Uint8Array | undefined;
      map.onLocalUpdate((u) => (update = u));
      map.addTopic(map.centralTopicId(), undefined, { text: 'added later' });
      await content.append('t1', id, [{ accountId: 'alice', data: update! }]);
      const changed = (await call('GET', `/maps/${id}/document`, alice)).json<{
        root: { children: unknown[] };
      }>();
      expect(changed.root.children).toHaveLength(1);
      const restore = await call('POST', `/maps/${id}/versions/${v1.id}/restore`, alice);
      expect(restore.statusCode).toBe(200);
      const back = (await call('GET', `/maps/${id}/document`, alice)).json<{
        root: { children: unknown[] };
      }>();
      expect(back.root.children).toHaveLength(0);
      const versions = (await call('GET', `/maps/${id}/versions`, alice)).json<{
        items: { name: string }[];
      }>();
      expect(versions.items.map((v) => v.name)).toEqual(['Before restoring "first"', 'first']);
    });

    it('stores snapshots and the update log sealed with the tenant key', async () => {
      const { id } = (await call('POST', '/maps', alice, { title: 'Confidential title-in-snapshot' })).json<{
        id: string;
      }>();
      const { content } = (await import('./index.ts')).mapsModule(t.deps);
      const map = (await content.load('t1', id))!.map;
      let update: Uint8Array | undefined;
      map.onLocalUpdate((u) => (update = u));
      map.addTopic(map.centralTopicId(), undefined, { text: 'secret topic text' });
      await content.append('t1', id, [{ accountId: 'alice', data: update! }]);
      // Raw rows, as someone reading the database files would (inside the tenant: RLS hides them otherwise).
      const { mapRow, logRow } = await withTenant(t.platform.database, 't1', async ({ trx }) => ({
        mapRow: await trx
          .selectFrom('maps')
          .select('snapshot')
          .where('id', '=', id)
          .executeTakeFirstOrThrow(),
        logRow: await trx
          .selectFrom('map_updates')
          .select('data')
          .where('map_id', '=', id)
          .executeTakeFirstOrThrow(),
      }));
      expect(mapRow.snapshot[0]).toBe(1);
      expect(logRow.data[0]).toBe(1);
      expect(Buffer.from(mapRow.snapshot).includes('Confidential')).toBe(false);
      expect(Buffer.from(logRow.data).includes('secret topic text')).toBe(false);
      const doc = (await call('GET', `/maps/${id}/document`, alice)).json<{
        root: { children: { text: string }[] };
      }>();
      expect(doc.root.children[0]?.text).toBe('secret topic text');
    });

    // The server opens a MindMap for each read of a map's content; Loro held every one for the life of the
    // process (the map's own listener keeps it) until the server freed them (MindMap.free).
    it('gives back the memory of the maps it opens to answer reads', async () => {
      const source = MindMap.create('Big');
      for (let i = 0; i < 400; i++)
        source.addTopic(source.centralTopicId(), undefined, { text: `topic ${i} `.repeat(20) });
      const imported = await t.app.inject({
        method: 'POST',
        url: '/api/v1/maps/import?filename=big.json',
        headers: { ...alice, 'content-type': 'application/json' },
        payload: JSON.stringify(source.toJSON()),
      });
      source.free();
      expect(imported.statusCode).toBe(201);
      const { id } = imported.json<{ id: string }>();
      const gc = (globalThis as { gc?: () => void }).gc;
      if (!gc) throw new Error('run with --expose-gc (vitest.config.ts)');
      const sizes: number[] = [];
      for (let k = 0; k < 14; k++) {
        expect((await call('GET', `/maps/${id}/document`, alice)).statusCode).toBe(200);
        expect((await call('GET', `/maps/${id}/export?format=json`, alice)).statusCode).toBe(200);
        gc();
        await new Promise((resolve) => setTimeout(resolve, 0));
        sizes.push(loroHeapSize()!);
      }
      // Freed, the reads reuse the memory after the first few (short-lived handles wait for finalisers, as in
      // the model's own test); not freed, Loro's heap grew with every read.
      expect(sizes.slice(1).filter((size, i) => size > sizes[i]!).length).toBeLessThanOrEqual(8);
    });

    it('imports and exports the document JSON', async () => {
      const source = MindMap.create('From file');
      source.addTopic(source.centralTopicId(), undefined, { text: 'child' });
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/maps/import?filename=plan.json',
        headers: { ...alice, 'content-type': 'application/json' },
        payload: JSON.stringify(source.toJSON()),
      });
      expect(res.statusCode).toBe(201);
      const { id } = res.json<{ id: string }>();
      const out = await call('GET', `/maps/${id}/export?format=json`, alice);
      expect(out.statusCode).toBe(200);
      expect(out.headers['content-disposition']).toContain('.json');
      expect(JSON.parse(out.body).root.children[0].text).toBe('child');
      expect((await call('GET', `/maps/${id}/export?format=json`, mallory)).statusCode).toBe(404);
    });

    it('reads a JSON import from its bytes: nested deeper than the stack, it is refused with 422 too_deep', async () => {
      const depth = 100_000;
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/maps/import?filename=deep.json',
        headers: { ...alice, 'content-type': 'application/json' },
        payload: '['.repeat(depth) + ']'.repeat(depth),
      });
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({ code: 'too_deep' });
    });

    it('imports OPML through packages/formats and exports Markdown', async () => {
      const opml = `<?xml version="1.0"?><opml version="2.0"><head><title>Trip</title></head><body>
        <outline text="Trip"><outline text="Pack"/><outline text="Book"/></outline></body></opml>`;
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/maps/import?filename=trip.opml',
        headers: { ...alice, 'content-type': 'text/x-opml' },
        payload: opml,
      });
      expect(res.statusCode).toBe(201);
      const { id } = res.json<{ id: string }>();
      const md = await call('GET', `/maps/${id}/export?format=md`, alice);
      expect(md.statusCode).toBe(200);
      expect(md.body).toContain('Pack');
      const bad = await t.app.inject({
        method: 'POST',
        url: '/api/v1/maps/import?filename=x.xmind',
        headers: { ...alice, 'content-type': 'application/octet-stream' },
        payload: Buffer.from('not a zip'),
      });
      expect(bad.statusCode).toBeGreaterThanOrEqual(400);
      expect(bad.statusCode).toBeLessThan(500);
    });
  });
}

describe('maps wired to the identity module (default ports)', () => {
  let t: ModuleTestApp;
  beforeAll(async () => {
    t = await createModuleTestApp({});
  });
  afterAll(async () => t.close());

  it('classifies every maps and collab route as authenticated and answers 401 without a session', async () => {
    const ours = t.app.routeAccess.filter((r) => r.url.startsWith('/api/v1/maps'));
    expect(ours.length).toBeGreaterThan(10);
    for (const r of ours) expect(r.access).toBe('authenticated');
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/maps' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'unauthenticated' });
  });
});
