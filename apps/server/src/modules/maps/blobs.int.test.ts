import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { exportMap, importMap } from '@canopy/formats';
import { MindMap, type MapDocument } from '@canopy/model';
import { s3Enabled, startLocalS3, type LocalS3 } from '../../platform/blobs/testing.ts';
import { describeEachDialect } from '../../platform/db/testing.ts';
import { IMPORT_GRACE_MS, importMapIdTime, newImportMapId } from './blobs.ts';
import { mapsModule, sweepMapBlobs } from './index.ts';
import { ManualClock } from '../../platform/clock.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { MapsRepository } from './repository.ts';
import { createModuleTestApp, type ModuleTestApp } from './test-app.ts';
import { testAuthorization, testIdentity } from './testing.ts';

const alice = { authorization: testAuthorization('alice', 't1') };
const bob = { authorization: testAuthorization('bob', 't1') };
const mallory = { authorization: testAuthorization('mallory', 't2') };

const FIXTURES = '/work/shared/fixtures';
// A 1×1 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
const refOf = (data: Uint8Array) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const limits = { maxBlobBytes: 64 * 1024, maxImportBlobBytes: 100 * 1024 };

/** A map whose central topic has an image and whose one child has an attachment, with those blobs. */
function mapWithBlobs(attachment: Uint8Array, extra: Uint8Array[] = []) {
  const map = MindMap.create('Pictures');
  map.addTopic(map.centralTopicId(), undefined, { text: 'with a file' });
  const doc: MapDocument = map.toJSON();
  doc.root.image = { ref: refOf(PNG), mimeType: 'image/png', size: PNG.length, width: 1, height: 1 };
  const child = doc.root.children[0]!;
  child.attachments = [
    { ref: refOf(attachment), mimeType: 'application/pdf', size: attachment.length, name: 'spec.pdf' },
    ...extra.map((data, i) => ({
      ref: refOf(data),
      mimeType: 'application/octet-stream',
      size: data.length,
      name: `extra-${i}.bin`,
    })),
  ];
  const blobs = new Map([
    [refOf(PNG), { data: new Uint8Array(PNG), mimeType: 'image/png' }],
    [refOf(attachment), { data: attachment, mimeType: 'application/pdf' }],
    ...extra.map((data) => [refOf(data), { data, mimeType: 'application/octet-stream' }] as const),
  ]);
  return { doc, blobs };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describeEachDialect('maps: images and attachments in the blob store', (h) => {
  let t: ModuleTestApp;
  beforeAll(async () => {
    t = await createModuleTestApp({
      databaseUrl: h.url,
      maps: { identity: testIdentity, blobLimits: limits },
    });
  });
  afterAll(async () => t.close());

  const get = (url: string, headers: Record<string, string>) =>
    t.app.inject({ method: 'GET', url: `/api/v1${url}`, headers });
  const importFile = (name: string, bytes: Uint8Array, headers = alice) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/maps/import?filename=${encodeURIComponent(name)}`,
      headers: { ...headers, 'content-type': 'application/octet-stream' },
      payload: Buffer.from(bytes),
    });
  const blobUrl = (mapId: string, ref: string) => `/maps/${mapId}/blobs/${encodeURIComponent(ref)}`;
  const stored = (tenant: string, mapId: string) => mapsModule(t.deps).blobs.list(tenant, mapId);
  const allMapBlobs = (tenant: string) => t.platform.blobs.default.list(tenant, 'maps/');

  it('keeps the XMind fixture image: served as stored, back in the .xmind export', async () => {
    const file = readFileSync(join(FIXTURES, 'xmind/example0.xmind'));
    const expected = importMap(file, { filename: 'example0.xmind' }).blobs;
    expect(expected.size).toBeGreaterThan(0);
    const res = await importFile('example0.xmind', file);
    expect(res.statusCode).toBe(201);
    const { id, warnings } = res.json<{ id: string; warnings: string[] }>();
    expect(warnings.join('\n')).not.toMatch(/not kept/);
    expect(await stored('t1', id)).toHaveLength(expected.size);

    for (const [ref, blob] of expected) {
      const served = await get(blobUrl(id, ref), alice);
      expect(served.statusCode).toBe(200);
      expect(Buffer.from(served.rawPayload).equals(Buffer.from(blob.data))).toBe(true);
      expect(served.headers['content-type']).toBe(blob.mimeType);
      expect(served.headers['x-content-type-options']).toBe('nosniff');
      // SVG can carry script: never inline.
      expect(served.headers['content-disposition']).toBe('attachment');
    }

    const exported = await get(`/maps/${id}/export?format=xmind`, alice);
    expect(exported.statusCode).toBe(200);
    const again = importMap(exported.rawPayload, { filename: 'again.xmind' });
    expect([...again.blobs.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [ref, blob] of again.blobs)
      expect(Buffer.from(blob.data).equals(Buffer.from(expected.get(ref)!.data))).toBe(true);
  });

  it('round-trips a .mmap image and attachment through import, the blob route and every export', async () => {
    const attachment = randomBytes(3000);
    const { doc, blobs } = mapWithBlobs(attachment);
    const mmap = exportMap(doc, 'mmap', { blobs }).data;
    const res = await importFile('pictures.mmap', mmap);
    expect(res.statusCode).toBe(201);
    const { id, warnings } = res.json<{ id: string; warnings: string[] }>();
    expect(warnings.join('\n')).not.toMatch(/not kept/);

    const png = await get(blobUrl(id, refOf(PNG)), alice);
    expect(png.statusCode).toBe(200);
    expect(Buffer.from(png.rawPayload).equals(PNG)).toBe(true);
    expect(png.headers['content-type']).toBe('image/png');
    expect(png.headers['content-disposition']).toBe('inline');
    expect(png.headers['cache-control']).toBe('private, max-age=31536000, immutable');
    expect(png.headers['etag']).toBe(`"${refOf(PNG).slice(7)}"`);
    const cached = await get(blobUrl(id, refOf(PNG)), {
      ...alice,
      'if-none-match': String(png.headers['etag']),
    });
    expect(cached.statusCode).toBe(304);
    expect(cached.rawPayload.length).toBe(0);

    const file = await get(blobUrl(id, refOf(attachment)), alice);
    expect(Buffer.from(file.rawPayload).equals(attachment)).toBe(true);
    expect(file.headers['content-type']).toBe('application/pdf');
    expect(file.headers['content-disposition']).toBe(
      `attachment; filename="spec.pdf"; filename*=UTF-8''spec.pdf`,
    );

    // .mmap, .xmind and .json carry both again; the HTML page carries the image as a data: URI.
    for (const format of ['mmap', 'xmind', 'json'] as const) {
      const out = await get(`/maps/${id}/export?format=${format}`, alice);
      expect(out.statusCode).toBe(200);
      const back = importMap(out.rawPayload, { filename: `back.${format}` });
      expect(back.blobs.get(refOf(PNG))?.data).toEqual(new Uint8Array(PNG));
      if (format !== 'xmind' || back.document.root.children[0]?.attachments?.length)
        expect(Buffer.from(back.blobs.get(refOf(attachment))!.data).equals(attachment)).toBe(true);
      expect(back.document.root.image?.ref).toBe(refOf(PNG));
    }
    const html = await get(`/maps/${id}/export?format=html`, alice);
    expect(html.body).toContain(`data:image/png;base64,${PNG.toString('base64')}`);

    // Export → re-import through the API gives the same images.
    const reimported = await importFile(
      'back.mmap',
      (await get(`/maps/${id}/export?format=mmap`, alice)).rawPayload,
    );
    const id2 = reimported.json<{ id: string }>().id;
    const doc2 = (await get(`/maps/${id2}/document`, alice)).json<MapDocument>();
    expect(doc2.root.image).toMatchObject({ ref: refOf(PNG), mimeType: 'image/png' });
    expect(Buffer.from((await get(blobUrl(id2, refOf(PNG)), alice)).rawPayload).equals(PNG)).toBe(true);
  });

  it('stores the blobs sealed: the blob directory holds none of the bytes', async () => {
    const marker = Buffer.from(`sentinel-${randomBytes(8).toString('hex')}-`.repeat(20));
    const { doc, blobs } = mapWithBlobs(marker);
    const res = await importFile('sealed.json', exportMap(doc, 'json', { blobs }).data);
    expect(res.statusCode).toBe(201);
    const dir = t.config.blobUrl.slice('file:'.length);
    for (const path of filesUnder(dir)) {
      const raw = readFileSync(path);
      expect(raw.includes(marker.subarray(0, 40))).toBe(false);
      expect(raw.includes(PNG.subarray(0, 16))).toBe(false);
    }
  });

  it("answers 404 for an unshared map's blobs, another tenant's, and refs the map does not use", async () => {
    const { doc, blobs } = mapWithBlobs(randomBytes(100));
    const { id } = (await importFile('a.mmap', exportMap(doc, 'mmap', { blobs }).data)).json<{
      id: string;
    }>();
    const url = blobUrl(id, refOf(PNG));
    expect((await get(url, bob)).statusCode).toBe(404);
    expect((await get(url, mallory)).statusCode).toBe(404);
    expect((await get(url, mallory)).json()).toMatchObject({ code: 'not_found' });
    expect((await get(blobUrl(id, refOf(Buffer.from('other'))), alice)).statusCode).toBe(404);
    expect((await get(`/maps/${id}/blobs/not-a-ref`, alice)).statusCode).toBe(400);
    expect((await get(url, {})).statusCode).toBe(401);
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/maps/${id}/shares`,
      headers: alice,
      payload: { email: 'bob@t1', role: 'viewer' },
    });
    const shared = await get(url, bob);
    expect(shared.statusCode).toBe(200);
    expect(Buffer.from(shared.rawPayload).equals(PNG)).toBe(true);
  });

  it('follows the document: an image taken out by an edit is no longer served', async () => {
    const { doc, blobs } = mapWithBlobs(randomBytes(100));
    const { id } = (await importFile('edit.mmap', exportMap(doc, 'mmap', { blobs }).data)).json<{
      id: string;
    }>();
    const url = blobUrl(id, refOf(PNG));
    expect((await get(url, alice)).statusCode).toBe(200);
    expect((await get(url, alice)).statusCode).toBe(200);
    const { content } = mapsModule(t.deps);
    const map = (await content.load('t1', id))!.map;
    let update: Uint8Array | undefined;
    map.onLocalUpdate((u) => (update = u));
    map.setImage(map.centralTopicId(), undefined);
    await content.append('t1', id, [{ accountId: 'alice', data: update! }]);
    expect((await get(url, alice)).statusCode).toBe(404);
  });

  it('takes an upload from an editor, stores its exact bytes once, and serves it once the document uses it', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/maps',
      headers: alice,
      payload: { title: 'Up' },
    });
    const { id } = created.json<{ id: string }>();
    const upload = (data: Uint8Array, type: string | undefined, headers: Record<string, string> = alice) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/maps/${id}/blobs`,
        headers: { ...headers, ...(type ? { 'content-type': type } : {}) },
        payload: Buffer.from(data),
      });
    const res = await upload(PNG, 'image/png');
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ ref: refOf(PNG), mimeType: 'image/png', size: PNG.length });
    // Not served until the document uses it.
    const url = blobUrl(id, refOf(PNG));
    expect((await get(url, alice)).statusCode).toBe(404);
    const { content } = mapsModule(t.deps);
    const map = (await content.load('t1', id))!.map;
    let update: Uint8Array | undefined;
    map.onLocalUpdate((u) => (update = u));
    map.setImage(map.centralTopicId(), { ref: refOf(PNG), mimeType: 'image/png', size: PNG.length });
    await content.append('t1', id, [{ accountId: 'alice', data: update! }]);
    const served = await get(url, alice);
    expect(served.statusCode).toBe(200);
    expect(Buffer.from(served.rawPayload).equals(PNG)).toBe(true);

    // The same bytes again: the same ref, stored once. JSON and text keep their exact bytes.
    expect((await upload(PNG, 'image/png')).json()).toMatchObject({ ref: refOf(PNG) });
    const json = Buffer.from('{ "b": 1,   "a": [2] }');
    expect((await upload(json, 'application/json; charset=utf-8')).json()).toEqual({
      ref: refOf(json),
      mimeType: 'application/json',
      size: json.length,
    });
    expect((await upload(Buffer.from('plain'), 'text/plain')).json()).toMatchObject({
      ref: refOf(Buffer.from('plain')),
    });
    const untyped = await upload(Buffer.from('x'), 'not a type');
    expect(untyped.statusCode).toBe(415);
    expect(untyped.json()).toMatchObject({ code: 'unsupported_media_type' });
    expect((await upload(Buffer.from('no type'), undefined)).json()).toMatchObject({
      mimeType: 'application/octet-stream',
    });
    expect(await stored('t1', id)).toHaveLength(4);

    // Who may not, and what is not a file.
    // Another tenant's map is not found; one of this tenant's not shared with you, or only to view, forbidden.
    expect((await upload(PNG, 'image/png', mallory)).statusCode).toBe(404);
    expect((await upload(PNG, 'image/png', bob)).statusCode).toBe(403);
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/maps/${id}/shares`,
      headers: alice,
      payload: { email: 'bob@t1', role: 'viewer' },
    });
    expect((await upload(PNG, 'image/png', bob)).statusCode).toBe(403);
    expect((await upload(PNG, 'image/png', {})).statusCode).toBe(401);
    const empty = await upload(new Uint8Array(), 'image/png');
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toMatchObject({ code: 'empty_blob' });
    const big = await upload(randomBytes(limits.maxBlobBytes + 1), 'application/octet-stream');
    expect(big.statusCode).toBe(413);
    expect(await stored('t1', id)).toHaveLength(4);
  });

  it('refuses a file whose blobs exceed the limits with 413 map_blobs_too_large and stores nothing', async () => {
    const before = await allMapBlobs('t1');
    const maps = async () => (await get('/maps', alice)).json<{ items: unknown[] }>().items.length;
    const mapsBefore = await maps();
    // One attachment over the per-blob limit (64 KiB here).
    const big = mapWithBlobs(randomBytes(70 * 1024));
    const one = await importFile('big.mmap', exportMap(big.doc, 'mmap', { blobs: big.blobs }).data);
    expect(one.statusCode).toBe(413);
    expect(one.json()).toMatchObject({ code: 'map_blobs_too_large' });
    // Each under the limit, together over the per-file limit (100 KiB here).
    const many = mapWithBlobs(randomBytes(40 * 1024), [randomBytes(40 * 1024), randomBytes(40 * 1024)]);
    const sum = await importFile('many.mmap', exportMap(many.doc, 'mmap', { blobs: many.blobs }).data);
    expect(sum.statusCode).toBe(413);
    expect(sum.json()).toMatchObject({ code: 'map_blobs_too_large' });
    expect(await allMapBlobs('t1')).toEqual(before);
    expect(await maps()).toBe(mapsBefore);
  });

  it('leaves no blobs behind when the map cannot be created after they were stored', async () => {
    const before = await allMapBlobs('t1');
    const { service } = mapsModule(t.deps);
    const { blobs } = mapWithBlobs(randomBytes(500));
    const broken = { schemaVersion: 1, title: 'x' } as unknown as MapDocument;
    await expect(
      service.importDocument({ accountId: 'alice', tenantId: 't1' }, 'x', broken, blobs),
    ).rejects.toMatchObject({ code: 'invalid_document' });
    expect(await allMapBlobs('t1')).toEqual(before);
  });

  it('documents the blob route in the OpenAPI schema', async () => {
    const spec = (await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json<{
      paths: Record<string, { get?: { summary?: string; parameters?: { name: string }[] } }>;
    }>();
    const route = spec.paths['/api/v1/maps/{id}/blobs/{blobId}']?.get;
    expect(route?.summary).toMatch(/image|attachment/);
    expect(route?.parameters?.map((p) => p.name)).toEqual(expect.arrayContaining(['id', 'blobId']));
  });

  it('sweeps blobs no map names (dead imports past the grace time, failed deletions) and keeps the rest', async () => {
    const store = t.platform.blobs.default;
    const hex = refOf(Buffer.from('orphan')).slice(7);
    const now = Date.now();
    const deadImport = newImportMapId(now - IMPORT_GRACE_MS - 60_000);
    const runningImport = newImportMapId(now - 60_000);
    const failedDelete = '5f0c8a9e-1b2c-4d3e-8f40-123456789abc';
    expect(importMapIdTime(deadImport)).toBe(now - IMPORT_GRACE_MS - 60_000);
    expect(importMapIdTime(failedDelete)).toBeUndefined();
    for (const id of [deadImport, runningImport, failedDelete])
      await store.put('t1', `maps/${id}/${hex}`, Buffer.from('orphan'));
    const { doc, blobs } = mapWithBlobs(randomBytes(100));
    const { id: live } = (await importFile('live.mmap', exportMap(doc, 'mmap', { blobs }).data)).json<{
      id: string;
    }>();
    expect(importMapIdTime(live)).toBeGreaterThan(now - 60_000);

    const swept = await sweepMapBlobs(t.deps);
    expect(swept.maps).toBeGreaterThanOrEqual(2);
    expect(await stored('t1', deadImport)).toEqual([]);
    expect(await stored('t1', failedDelete)).toEqual([]);
    expect(await stored('t1', runningImport)).toHaveLength(1);
    expect(await stored('t1', live)).toHaveLength(2);
    expect((await get(blobUrl(live, refOf(PNG)), alice)).statusCode).toBe(200);
  });

  it("leaves no rows and no blobs of a crypto-shredded tenant's maps behind", async () => {
    const carol = { authorization: testAuthorization('carol', 't3') };
    const { doc, blobs } = mapWithBlobs(randomBytes(100));
    const res = await importFile('gone.mmap', exportMap(doc, 'mmap', { blobs }).data, carol);
    expect(res.statusCode).toBe(201);
    expect(await allMapBlobs('t3')).toHaveLength(2);
    const { id } = res.json<{ id: string }>();
    const rows = () =>
      withTenant(t.platform.database, 't3', (scope) => new MapsRepository(scope).existingMaps([id]));
    expect(await rows()).toEqual(new Set([id]));
    await t.platform.crypto.keys.shred('t3');
    expect((await sweepMapBlobs(t.deps)).rows).toBeGreaterThanOrEqual(1);
    expect(await allMapBlobs('t3')).toEqual([]);
    expect(await rows()).toEqual(new Set());
    expect((await allMapBlobs('t1')).length).toBeGreaterThan(0);
  });

  /**
   * An app of its own, on a clock the test moves (the tenant's keys are this app's root key's), and a map of
   * `who`'s imported there with an image and `attachment`.
   */
  const onManualClock = async (
    who: { accountId: string; tenantId: string },
    attachment: Uint8Array,
    tenantQuotaBytes?: number,
  ) => {
    const clock = new ManualClock(Date.now());
    const app = await createModuleTestApp({
      databaseUrl: h.url,
      clock,
      maps: {
        identity: testIdentity,
        blobLimits: { ...limits, ...(tenantQuotaBytes !== undefined ? { tenantQuotaBytes } : {}) },
      },
    });
    const { doc, blobs } = mapWithBlobs(attachment);
    const res = await app.app.inject({
      method: 'POST',
      url: '/api/v1/maps/import?filename=clocked.mmap',
      headers: {
        authorization: testAuthorization(who.accountId, who.tenantId),
        'content-type': 'application/octet-stream',
      },
      payload: Buffer.from(exportMap(doc, 'mmap', { blobs }).data),
    });
    if (res.statusCode !== 201) await app.close();
    expect(res.statusCode).toBe(201);
    return { clock, app, doc, id: res.json<{ id: string }>().id };
  };

  it('deletes a live map’s blob 30 days after nothing uses it, and keeps one a version uses', async () => {
    const dave = { accountId: 'dave', tenantId: 't4' };
    const attachment = randomBytes(300);
    const { clock, app, doc, id } = await onManualClock(dave, attachment);
    try {
      const { content, service, sweep, blobs: mapBlobs } = mapsModule(app.deps);
      const edit = async (change: (map: MindMap) => void) => {
        const map = (await content.load('t4', id))!.map;
        let update: Uint8Array | undefined;
        map.onLocalUpdate((u) => (update = u));
        change(map);
        await content.append('t4', id, [{ accountId: 'dave', data: update! }]);
      };
      const image = doc.root.image;
      const child = (map: MindMap) => map.toJSON().root.children[0]!.id;
      const stored = async () =>
        (await mapBlobs.list('t4', id)).map((k) => k.slice(k.lastIndexOf('/') + 1)).sort();
      const png = refOf(PNG).slice(7);
      const pdf = refOf(attachment).slice(7);
      const day = 24 * 3_600_000;

      // The image out; a version that has the attachment; then the attachment out too.
      await edit((map) => map.setImage(map.centralTopicId(), undefined));
      await service.saveVersion(dave, id, 'with the attachment');
      await edit((map) => map.setAttachments(child(map), undefined));
      expect((await sweep.tenant('t4')).unused).toBe(0); // noted, not deleted
      expect(await stored()).toEqual([png, pdf].sort());

      // Used again within the 30 days: the note is dropped, and the count starts again when it goes.
      clock.advance(29 * day);
      await edit((map) => map.setImage(map.centralTopicId(), image));
      await sweep.tenant('t4');
      await edit((map) => map.setImage(map.centralTopicId(), undefined));
      await sweep.tenant('t4');
      clock.advance(2 * day);
      expect((await sweep.tenant('t4')).unused).toBe(0);
      expect(await stored()).toEqual([png, pdf].sort());

      // 30 days after it went for the second time: deleted. The attachment stays: the version uses it.
      clock.advance(28 * day);
      expect((await sweepMapBlobs(app.deps)).unused).toBe(1);
      expect(await stored()).toEqual([pdf]);
      expect((await sweep.tenant('t4')).unused).toBe(0);
      expect(await stored()).toEqual([pdf]);
    } finally {
      await app.close();
    }
  });

  it('loads a map for the sweep only when its log or its blobs changed since its last check', async () => {
    const erin = { accountId: 'erin', tenantId: 't5' };
    const { clock, app, id } = await onManualClock(erin, randomBytes(200));
    try {
      const headers = { authorization: testAuthorization('erin', 't5') };
      const { content, service, sweep, blobs: mapBlobs } = mapsModule(app.deps);
      const loads = vi.spyOn(content, 'load');
      const loadedBySweep = async () => {
        loads.mockClear();
        await sweep.tenant('t5');
        return loads.mock.calls.filter(([, mapId]) => mapId === id).length;
      };
      const stored = async () => (await mapBlobs.list('t5', id)).length;
      const day = 24 * 3_600_000;

      expect(await loadedBySweep()).toBe(1); // first seen
      expect(await loadedBySweep()).toBe(0); // unchanged
      await service.saveVersion(erin, id, 'a version changes nothing the map uses');
      expect(await loadedBySweep()).toBe(0);
      // An upload nothing uses yet: the blobs changed, so the map is read, and the upload noted as unused.
      const upload = await app.app.inject({
        method: 'POST',
        url: `/api/v1/maps/${id}/blobs`,
        headers: { ...headers, 'content-type': 'image/png' },
        payload: randomBytes(100),
      });
      expect(upload.statusCode).toBe(201);
      expect(await loadedBySweep()).toBe(1);
      expect(await loadedBySweep()).toBe(0);
      // An edit: read again (the image taken out is noted too).
      const map = (await content.load('t5', id))!.map;
      let update: Uint8Array | undefined;
      map.onLocalUpdate((u) => (update = u));
      map.setImage(map.centralTopicId(), undefined);
      await content.append('t5', id, [{ accountId: 'erin', data: update! }]);
      expect(await loadedBySweep()).toBe(1);
      expect(await stored()).toBe(3);
      // 30 days on, nothing changed: the upload goes without the map being read; the image stays (the version
      // uses it), and so does the attachment.
      clock.advance(30 * day);
      expect(await loadedBySweep()).toBe(0);
      expect(await stored()).toBe(2);
      // The deletion changed its blobs: the next sweep reads it once more.
      expect(await loadedBySweep()).toBe(1);
      expect(await loadedBySweep()).toBe(0);
      expect(await stored()).toBe(2);
      loads.mockRestore();
    } finally {
      await app.close();
    }
  });

  it("keeps a tenant's images and attachments within its quota, counted as stored and set right by the sweep", async () => {
    const fay = { accountId: 'fay', tenantId: 't6' };
    const attachment = randomBytes(300);
    const quota = 2_000;
    const { clock, app, id: imported } = await onManualClock(fay, attachment, quota);
    try {
      const { sweep, blobs: mapBlobs } = mapsModule(app.deps);
      const store = app.platform.blobs.default;
      const as = (account: string, tenant: string) => ({ authorization: testAuthorization(account, tenant) });
      const headers = as('fay', 't6');
      const used = (tenant = 't6') =>
        withTenant(app.platform.database, tenant, (scope) =>
          new MapsRepository(scope).blobNotes.tenantBlobBytes(),
        );
      const create = async (who = headers) =>
        (
          await app.app.inject({ method: 'POST', url: '/api/v1/maps', headers: who, payload: { title: 'Q' } })
        ).json<{ id: string }>().id;
      const upload = (mapId: string, data: Uint8Array, who = headers) =>
        app.app.inject({
          method: 'POST',
          url: `/api/v1/maps/${mapId}/blobs`,
          headers: { ...who, 'content-type': 'application/octet-stream' },
          payload: Buffer.from(data),
        });
      const importing = () => {
        const more = mapWithBlobs(randomBytes(900));
        return app.app.inject({
          method: 'POST',
          url: '/api/v1/maps/import?filename=more.mmap',
          headers: { ...headers, 'content-type': 'application/octet-stream' },
          payload: Buffer.from(exportMap(more.doc, 'mmap', { blobs: more.blobs }).data),
        });
      };
      const imageBytes = PNG.length + attachment.length;
      expect(await used()).toBe(imageBytes); // the import's two blobs

      // Uploads count once per distinct content, until the next would pass the quota.
      const a = await create();
      const first = randomBytes(1_000);
      const r1 = await upload(a, first);
      expect(r1.statusCode).toBe(201);
      expect((await upload(a, first)).statusCode).toBe(201); // the same bytes: stored once, counted once
      expect(await used()).toBe(imageBytes + 1_000);
      const over = await upload(a, randomBytes(quota - imageBytes - 1_000 + 1));
      expect(over.statusCode).toBe(413);
      expect(over.json()).toMatchObject({ code: 'blob_quota_exceeded' });
      expect(over.json<{ detail: string }>().detail).toMatch(/1\.[0-9] KiB .* 2\.0 KiB/);
      expect(await mapBlobs.list('t6', a)).toHaveLength(1);
      expect((await upload(a, randomBytes(quota - imageBytes - 1_000))).statusCode).toBe(201); // exactly full
      // An import whose blobs do not fit: refused before anything is stored, no map made.
      const mapsBefore = (await store.list('t6', 'maps/')).length;
      const refused = await importing();
      expect(refused.statusCode).toBe(413);
      expect(refused.json()).toMatchObject({ code: 'blob_quota_exceeded' });
      expect((await store.list('t6', 'maps/')).length).toBe(mapsBefore);
      // Another tenant has a quota of its own.
      expect(
        (await upload(await create(as('gus', 't7')), randomBytes(1_500), as('gus', 't7'))).statusCode,
      ).toBe(201);
      expect(await used('t7')).toBe(1_500);

      // A map deleted takes its blobs out of the count.
      expect((await app.app.inject({ method: 'DELETE', url: `/api/v1/maps/${a}`, headers })).statusCode).toBe(
        204,
      );
      expect(await used()).toBe(imageBytes);
      expect((await importing()).statusCode).toBe(201);
      expect(await used()).toBe(imageBytes + PNG.length + 900); // the same image in another map counts again

      // The daily sweep sets the count right against the store: a blob stored but never noted (a crash between
      // the two) is counted, a note whose blob is gone (a crash after the deletion) is dropped.
      const b = await create();
      const unnoted = randomBytes(200);
      await store.put('t6', `maps/${b}/${refOf(unnoted).slice(7)}`, unnoted);
      const before = await used();
      expect((await sweep.tenant('t6')).sized).toBe(1);
      expect(await used()).toBe(before + 200);
      expect((await sweep.tenant('t6')).sized).toBe(0);
      await store.delete('t6', `maps/${b}/${refOf(unnoted).slice(7)}`);
      expect((await sweep.tenant('t6')).sized).toBe(1);
      expect(await used()).toBe(before);

      // A blob nothing uses, deleted 30 days on, leaves the count with it.
      const spare = randomBytes(100);
      expect((await upload(b, spare)).statusCode).toBe(201);
      expect(await used()).toBe(before + 100);
      await sweep.tenant('t6');
      clock.advance(30 * 24 * 3_600_000);
      expect((await sweep.tenant('t6')).unused).toBe(1);
      expect(await used()).toBe(before);
      expect(await mapBlobs.list('t6', imported)).toHaveLength(2);
    } finally {
      await app.close();
    }
  });

  it("deletes a map's blobs with the map", async () => {
    const { doc, blobs } = mapWithBlobs(randomBytes(200));
    const { id } = (await importFile('gone.mmap', exportMap(doc, 'mmap', { blobs }).data)).json<{
      id: string;
    }>();
    expect(await stored('t1', id)).toHaveLength(2);
    const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/maps/${id}`, headers: alice });
    expect(del.statusCode).toBe(204);
    expect(await stored('t1', id)).toEqual([]);
    expect((await get(blobUrl(id, refOf(PNG)), alice)).statusCode).toBe(404);
  });
});

describe.runIf(s3Enabled())('maps: images and attachments in an S3 blob store', () => {
  let s3: LocalS3;
  let t: ModuleTestApp;
  beforeAll(async () => {
    s3 = await startLocalS3();
    await s3.backend('canopy-maps');
    const url = `s3://S3RVER:S3RVER@canopy-maps?endpoint=${encodeURIComponent(s3.endpoint)}&forcePathStyle=true&region=us-east-1`;
    t = await createModuleTestApp({ env: { CANOPY_BLOB_URL: url }, maps: { identity: testIdentity } });
  });
  afterAll(async () => {
    await t?.close();
    await s3?.stop();
  });

  it('imports, serves, exports, sweeps and deletes a map’s blobs', async () => {
    expect(t.platform.blobs.default.backend.kind).toBe('s3');
    const attachment = randomBytes(2000);
    const { doc, blobs } = mapWithBlobs(attachment);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/maps/import?filename=s3.mmap',
      headers: { ...alice, 'content-type': 'application/octet-stream' },
      payload: Buffer.from(exportMap(doc, 'mmap', { blobs }).data),
    });
    expect(res.statusCode).toBe(201);
    const { id } = res.json<{ id: string }>();
    const get = (url: string) => t.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: alice });
    const png = await get(`/maps/${id}/blobs/${encodeURIComponent(refOf(PNG))}`);
    expect(Buffer.from(png.rawPayload).equals(PNG)).toBe(true);
    const back = importMap((await get(`/maps/${id}/export?format=xmind`)).rawPayload, {
      filename: 'b.xmind',
    });
    expect(back.blobs.get(refOf(PNG))?.data).toEqual(new Uint8Array(PNG));
    const { blobs: mapBlobs } = mapsModule(t.deps);
    await t.platform.blobs.default.put('t1', `maps/${newImportMapId(0)}/${refOf(PNG).slice(7)}`, PNG);
    expect((await sweepMapBlobs(t.deps)).blobs).toBe(1);
    expect(await mapBlobs.list('t1', id)).toHaveLength(2);
    await t.app.inject({ method: 'DELETE', url: `/api/v1/maps/${id}`, headers: alice });
    expect(await t.platform.blobs.default.list('t1', 'maps/')).toEqual([]);
  });
});
