/**
 * The gateway's limits (docs/protocol/collab.md R30-R33, R35; R34 is in presence.int.test.ts), with small limits
 * so a test reaches them, and the metric that counts each close. On SQLite only: the limits are the gateway's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { MindMap } from '@canopy/model';
import { CloseCode, decodeServer, encodeClient, type ServerFrame } from '@canopy/sdk';
import { createTestDatabase, type TestDatabase } from '../../platform/db/testing.ts';
// eslint-disable-next-line no-restricted-imports -- the test app of issue 7's two modules, shared by their tests
import { createModuleTestApp, type ModuleTestApp } from '../maps/test-app.ts';
import { testAuthorization, testIdentity } from '../maps/index.ts';
import { eventually, ticketUrl, type Who } from './test-clients.ts';
import type { CollabLimits } from './limits.ts';

const alice: Who = { accountId: 'alice', tenantId: 't1' };
const bob: Who = { accountId: 'bob', tenantId: 't1' };

/** A socket that says hello and keeps what it hears and how it was closed. */
class Socket {
  readonly frames: ServerFrame[] = [];
  closed: number | undefined;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => this.frames.push(decodeServer(new Uint8Array(d))));
    ws.on('close', (code) => (this.closed = code));
  }

  static open(url: string): Socket {
    const socket = new Socket(new WebSocket(url));
    socket.ws.on('open', () => socket.ws.send(encodeClient.hello(new Uint8Array())));
    return socket;
  }

  /** Resolves once welcomed, or with the close code if closed first. */
  async welcomed(): Promise<'welcome' | number> {
    await eventually(() => this.closed !== undefined || this.frames.some((f) => f.type === 'welcome'));
    return this.frames.some((f) => f.type === 'welcome') ? 'welcome' : this.closed!;
  }

  async whenClosed(): Promise<number> {
    await eventually(() => this.closed !== undefined);
    return this.closed!;
  }

  close(): void {
    this.ws.close();
  }
}

const sockets: Socket[] = [];

/** A map of alice's, shared with bob as an editor. */
async function newMap(t: ModuleTestApp, title: string): Promise<string> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/maps',
    headers: { authorization: testAuthorization(alice.accountId, alice.tenantId) },
    payload: { title },
  });
  expect(res.statusCode).toBe(201);
  const mapId = res.json<{ id: string }>().id;
  const shared = await t.app.inject({
    method: 'POST',
    url: `/api/v1/maps/${mapId}/shares`,
    headers: { authorization: testAuthorization(alice.accountId, alice.tenantId) },
    payload: { email: `${bob.accountId}@${bob.tenantId}`, role: 'editor' },
  });
  expect(shared.statusCode).toBeLessThan(300);
  return mapId;
}

async function open(t: ModuleTestApp, who: Who, mapId: string): Promise<Socket> {
  const socket = Socket.open(await ticketUrl(t.app, t.url, who, mapId));
  sockets.push(socket);
  return socket;
}

async function metric(t: ModuleTestApp, pattern: RegExp): Promise<number> {
  return Number(pattern.exec((await t.app.inject({ method: 'GET', url: '/metrics' })).body)?.[1] ?? 0);
}
const openOnServer = (t: ModuleTestApp) => metric(t, /canopy_websockets\{kind="collab"\} (\d+)/);
const closesFor = (t: ModuleTestApp, reason: string) =>
  metric(t, new RegExp(`canopy_collab_limit_closes_total\\{reason="${reason}"\\} (\\d+)`));

/** Every socket closed, on both ends: the next test starts on an empty node. */
async function closeAll(t: ModuleTestApp): Promise<void> {
  for (const s of sockets.splice(0)) {
    s.close();
    await s.whenClosed();
  }
  await eventually(async () => (await openOnServer(t)) === 0);
}

/** A listening app on a SQLite database of its own with these limits, for the tests of one `describe`. */
function appWithLimits(limits: Partial<CollabLimits>, started: (app: ModuleTestApp) => void): void {
  let t: ModuleTestApp | undefined;
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    t = await createModuleTestApp({
      databaseUrl: db.url,
      listen: true,
      maps: { identity: testIdentity },
      collab: { limits },
    });
    started(t);
  });
  afterAll(async () => {
    for (const s of sockets.splice(0)) s.close();
    await t?.close();
    await db?.drop();
  });
}

describe('co-editing limits [sqlite]', () => {
  let t: ModuleTestApp;
  appWithLimits(
    {
      maxMessageBytes: 4096,
      updatesPerSecond: 2,
      updateBurst: 5,
      maxConnectionsPerAccount: 3,
      maxConnectionsPerNode: 5,
    },
    (app) => (t = app),
  );

  it('closes a socket that sends a frame over the size limit with 1009 (R30)', async () => {
    const socket = await open(t, alice, await newMap(t, 'Big frames'));
    expect(await socket.welcomed()).toBe('welcome');
    socket.ws.send(encodeClient.update(1, new Uint8Array(5000)));
    expect(await socket.whenClosed()).toBe(CloseCode.tooBig);
    expect(await closesFor(t, 'too_big')).toBe(1);
    await closeAll(t);
  });

  it('answers rate_limited and closes with 1008 past the burst of updates (R31)', async () => {
    const socket = await open(t, alice, await newMap(t, 'Fast typist'));
    expect(await socket.welcomed()).toBe('welcome');
    // Not Loro updates: the rate counts them before anything looks inside.
    for (let ref = 1; ref <= 8; ref++) socket.ws.send(encodeClient.update(ref, new Uint8Array([1, 2, 3])));
    expect(await socket.whenClosed()).toBe(CloseCode.policy);
    expect(socket.frames.at(-1)).toMatchObject({ type: 'error', problem: { code: 'rate_limited' } });
    expect(await closesFor(t, 'rate_limited')).toBe(1);
    await closeAll(t);
  });

  it('closes an account’s socket beyond its limit with 4429, and not another account’s (R32)', async () => {
    const mapId = await newMap(t, 'Many tabs');
    const tabs = [await open(t, alice, mapId), await open(t, alice, mapId), await open(t, alice, mapId)];
    for (const tab of tabs) expect(await tab.welcomed()).toBe('welcome');
    expect(await (await open(t, alice, mapId)).welcomed()).toBe(CloseCode.tooManyConnections);
    expect(await closesFor(t, 'too_many_connections')).toBe(1);
    expect(await (await open(t, bob, mapId)).welcomed()).toBe('welcome');
    // One tab closed: the account may open another.
    tabs[0]!.close();
    await tabs[0]!.whenClosed();
    await eventually(async () => (await (await open(t, alice, mapId)).welcomed()) === 'welcome');
    await closeAll(t);
  });

  it('closes sockets beyond the node’s limit with 1013, whoever opens them, until one closes (R35)', async () => {
    const mapId = await newMap(t, 'Full node');
    const five = [
      await open(t, alice, mapId),
      await open(t, alice, mapId),
      await open(t, alice, mapId),
      await open(t, bob, mapId),
      await open(t, bob, mapId),
    ];
    for (const s of five) expect(await s.welcomed()).toBe('welcome');
    expect(await (await open(t, bob, mapId)).welcomed()).toBe(CloseCode.tryAgain);
    expect(await closesFor(t, 'node_full')).toBe(1);
    expect(await openOnServer(t)).toBe(5);
    five[3]!.close();
    await five[3]!.whenClosed();
    await eventually(async () => (await (await open(t, bob, mapId)).welcomed()) === 'welcome');
    await closeAll(t);
  });
});

describe('co-editing under loose limits [sqlite]', () => {
  let t: ModuleTestApp;
  appWithLimits(
    { maxBufferedBytes: 256 * 1024, updatesPerSecond: 1000, updateBurst: 1000 },
    (app) => (t = app),
  );

  it('is dropped with 4408 once its unsent bytes pass the limit; the others hear everything (R33)', async () => {
    const mapId = await newMap(t, 'Slow reader');
    const writer = await open(t, alice, mapId);
    const reader = await open(t, bob, mapId);
    const slow = await open(t, bob, mapId);
    for (const s of [writer, reader, slow]) expect(await s.welcomed()).toBe('welcome');
    // It reads nothing more: the kernel's buffers fill (a few MB on loopback), then the server's.
    slow.ws.pause();

    const welcome = writer.frames.find((f) => f.type === 'welcome');
    const opened = MindMap.fromSnapshot(welcome?.type === 'welcome' ? welcome.updates : new Uint8Array(), {
      peerId: 7n,
    });
    if (!opened.ok) throw opened.error;
    const map = opened.value;
    const updates: Uint8Array[] = [];
    map.onLocalUpdate((u) => updates.push(u));
    const acks = () => writer.frames.filter((f) => f.type === 'ack').length;
    // Topics of 10,000 characters, ~10 KB an update, ten at a time, until the server drops the slow member
    // (at most ~15 MB; on loopback ~4.3 MB did: the kernel took ~4 MB, then ws buffered past 256 KiB).
    let sent = 0;
    while ((await closesFor(t, 'too_slow')) === 0 && sent < 1500) {
      for (let i = 0; i < 10; i++) {
        map.addTopic(map.centralTopicId(), undefined, { text: randomBytes(5000).toString('hex') });
        writer.ws.send(encodeClient.update(++sent, updates.at(-1)!));
      }
      await eventually(() => acks() === sent);
    }
    expect(await closesFor(t, 'too_slow')).toBe(1);
    // Reading again (before the server's 2 s grace ends), it gets what was queued and then the close.
    slow.ws.resume();
    expect(await slow.whenClosed()).toBe(CloseCode.tooSlow);
    expect(slow.frames.filter((f) => f.type === 'update').length).toBeLessThan(sent);

    // Nobody else noticed: every update acknowledged and relayed, and the room goes on.
    await eventually(() => reader.frames.filter((f) => f.type === 'update').length === sent);
    expect(writer.closed).toBeUndefined();
    expect(reader.closed).toBeUndefined();
    // The dropped member reconnects and has it all (R33: it resyncs from its version vector).
    const again = await open(t, bob, mapId);
    expect(await again.welcomed()).toBe('welcome');
    const fresh = again.frames.find((f) => f.type === 'welcome');
    const copy = MindMap.fromSnapshot(fresh?.type === 'welcome' ? fresh.updates : new Uint8Array());
    if (!copy.ok) throw copy.error;
    expect(copy.value.toJSON()).toEqual(map.toJSON());
    await closeAll(t);
  });

  it('counts accepted and refused updates, commits and open rooms in /metrics', async () => {
    const counted = (outcome: string) =>
      metric(t, new RegExp(`canopy_collab_updates_total\\{outcome="${outcome}"\\} (\\d+)`));
    const commits = () => metric(t, /canopy_collab_commit_seconds_count (\d+)/);
    const before = { accepted: await counted('accepted'), commits: await commits() };
    const mapId = await newMap(t, 'Counted');
    const share = await t.app.inject({
      method: 'POST',
      url: `/api/v1/maps/${mapId}/shares`,
      headers: { authorization: testAuthorization(alice.accountId, alice.tenantId) },
      payload: { email: 'carol@t1', role: 'viewer' },
    });
    expect(share.statusCode).toBeLessThan(300);
    const writer = await open(t, alice, mapId);
    const viewer = await open(t, { accountId: 'carol', tenantId: 't1' }, mapId);
    for (const s of [writer, viewer]) expect(await s.welcomed()).toBe('welcome');
    expect(await metric(t, /canopy_collab_rooms (\d+)/)).toBeGreaterThanOrEqual(1);
    expect(await metric(t, /canopy_loro_heap_bytes (\d+)/)).toBeGreaterThan(0);

    const welcome = writer.frames.find((f) => f.type === 'welcome');
    const opened = MindMap.fromSnapshot(welcome?.type === 'welcome' ? welcome.updates : new Uint8Array());
    if (!opened.ok) throw opened.error;
    const updates: Uint8Array[] = [];
    opened.value.onLocalUpdate((u) => updates.push(u));
    for (let i = 1; i <= 3; i++) {
      opened.value.addTopic(opened.value.centralTopicId(), undefined, { text: `t${i}` });
      writer.ws.send(encodeClient.update(i, updates.at(-1)!));
    }
    await eventually(() => writer.frames.filter((f) => f.type === 'ack').length === 3);
    // The room stored updates: its mirror opened on the mirror thread, which says how large its Loro memory is.
    await eventually(async () => (await metric(t, /canopy_collab_mirror_loro_heap_bytes (\d+)/)) > 0);
    viewer.ws.send(encodeClient.update(1, updates[0]!));
    writer.ws.send(encodeClient.update(4, new Uint8Array([1, 2, 3])));
    await eventually(() => viewer.frames.some((f) => f.type === 'refused'));
    await eventually(() => writer.frames.some((f) => f.type === 'refused'));

    await eventually(async () => (await counted('accepted')) - before.accepted === 3);
    expect(await counted('forbidden')).toBe(1);
    expect(await counted('malformed-update')).toBe(1);
    expect((await commits()) - before.commits).toBeGreaterThanOrEqual(1);
    await closeAll(t);
  });
});
