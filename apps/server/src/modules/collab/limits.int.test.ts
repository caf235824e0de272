/**
 * The gateway's limits (docs/protocol/collab.md R30-R32, R35; R34 is in presence.int.test.ts), with small limits
 * so a test reaches them. On SQLite only: the limits are the gateway's, before any database work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CloseCode, decodeServer, encodeClient, type ServerFrame } from '@canopy/sdk';
import { createTestDatabase, type TestDatabase } from '../../platform/db/testing.ts';
// eslint-disable-next-line no-restricted-imports -- the test app of issue 7's two modules, shared by their tests
import { createModuleTestApp, type ModuleTestApp } from '../maps/test-app.ts';
import { testAuthorization, testIdentity } from '../maps/index.ts';
import { eventually, ticketUrl, type Who } from './test-clients.ts';

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

describe('co-editing limits [sqlite]', () => {
  let t: ModuleTestApp;
  let db: TestDatabase;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    t = await createModuleTestApp({
      databaseUrl: db.url,
      listen: true,
      maps: { identity: testIdentity },
      collab: {
        limits: {
          maxMessageBytes: 4096,
          updatesPerSecond: 2,
          updateBurst: 5,
          maxConnectionsPerAccount: 3,
          maxConnectionsPerNode: 5,
        },
      },
    });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await t.close();
    await db.drop();
  });

  const newMap = async (title: string) => {
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
  };
  const open = async (who: Who, mapId: string) => {
    const socket = Socket.open(await ticketUrl(t.app, t.url, who, mapId));
    sockets.push(socket);
    return socket;
  };
  const openOnServer = async () =>
    Number(
      /canopy_websockets\{kind="collab"\} (\d+)/.exec(
        (await t.app.inject({ method: 'GET', url: '/metrics' })).body,
      )?.[1] ?? NaN,
    );
  /** Every socket closed, on both ends: the next test starts on an empty node. */
  const closeAll = async () => {
    for (const s of sockets.splice(0)) {
      s.close();
      await s.whenClosed();
    }
    await eventually(async () => (await openOnServer()) === 0);
  };

  it('closes a socket that sends a frame over the size limit with 1009 (R30)', async () => {
    const socket = await open(alice, await newMap('Big frames'));
    expect(await socket.welcomed()).toBe('welcome');
    socket.ws.send(encodeClient.update(1, new Uint8Array(5000)));
    expect(await socket.whenClosed()).toBe(CloseCode.tooBig);
    await closeAll();
  });

  it('answers rate_limited and closes with 1008 past the burst of updates (R31)', async () => {
    const socket = await open(alice, await newMap('Fast typist'));
    expect(await socket.welcomed()).toBe('welcome');
    // Not Loro updates: the rate counts them before anything looks inside.
    for (let ref = 1; ref <= 8; ref++) socket.ws.send(encodeClient.update(ref, new Uint8Array([1, 2, 3])));
    expect(await socket.whenClosed()).toBe(CloseCode.policy);
    expect(socket.frames.at(-1)).toMatchObject({ type: 'error', problem: { code: 'rate_limited' } });
    await closeAll();
  });

  it('closes an account’s socket beyond its limit with 4429, and not another account’s (R32)', async () => {
    const mapId = await newMap('Many tabs');
    const tabs = [await open(alice, mapId), await open(alice, mapId), await open(alice, mapId)];
    for (const tab of tabs) expect(await tab.welcomed()).toBe('welcome');
    expect(await (await open(alice, mapId)).welcomed()).toBe(CloseCode.tooManyConnections);
    expect(await (await open(bob, mapId)).welcomed()).toBe('welcome');
    // One tab closed: the account may open another.
    tabs[0]!.close();
    await tabs[0]!.whenClosed();
    await eventually(async () => (await (await open(alice, mapId)).welcomed()) === 'welcome');
    await closeAll();
  });

  it('closes sockets beyond the node’s limit with 1013, whoever opens them, until one closes (R35)', async () => {
    const mapId = await newMap('Full node');
    const five = [
      await open(alice, mapId),
      await open(alice, mapId),
      await open(alice, mapId),
      await open(bob, mapId),
      await open(bob, mapId),
    ];
    for (const s of five) expect(await s.welcomed()).toBe('welcome');
    expect(await (await open(bob, mapId)).welcomed()).toBe(CloseCode.tryAgain);
    expect(await openOnServer()).toBe(5);
    five[3]!.close();
    await five[3]!.whenClosed();
    await eventually(async () => (await (await open(bob, mapId)).welcomed()) === 'welcome');
    await closeAll();
  });
});
