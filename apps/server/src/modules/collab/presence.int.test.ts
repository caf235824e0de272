/**
 * Presence over Loro's ephemeral store, with real clients over real sockets (docs/protocol/collab.md R4,
 * R17-R19, R34).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PresenceStore } from '@canopy/model';
import {
  CloseCode,
  CollabClient,
  decodeServer,
  encodeClient,
  presenceKey,
  presencePeerFrom,
  type PresencePeer,
  type ServerFrame,
} from '@canopy/sdk';
import { createTestDatabase, dialectsUnderTest, type TestDatabase } from '../../platform/db/testing.ts';
// eslint-disable-next-line no-restricted-imports -- the test app of issue 7's two modules, shared by their tests
import { createModuleTestApp, type ModuleTestApp } from '../maps/test-app.ts';
import { mapsModule, testAuthorization, testIdentity } from '../maps/index.ts';
import { NodeWebSocket, eventually, onlineAll, ticketUrl, type Who } from './test-clients.ts';

const alice: Who = { accountId: 'alice', tenantId: 't1' };
const bob: Who = { accountId: 'bob', tenantId: 't1' };
const carol: Who = { accountId: 'carol', tenantId: 't1' };

/** Short enough for a test to watch a state expire. */
const TIMEOUT_MS = 600;

/**
 * A member speaking the protocol by hand: its own ephemeral store (written with any key it likes), the frames
 * it received, and the store those frames build up.
 */
class RawMember {
  readonly frames: ServerFrame[] = [];
  readonly mine = new PresenceStore(60_000);
  readonly room = new PresenceStore(60_000);
  session = -1;
  closed: { code: number } | undefined;
  private constructor(readonly ws: WebSocket) {}

  static async join(url: string): Promise<RawMember> {
    const member = new RawMember(new WebSocket(url));
    await new Promise<void>((resolve, reject) => {
      member.ws.on('open', () => member.ws.send(encodeClient.hello(new Uint8Array())));
      member.ws.on('message', (d: Buffer) => {
        const frame = decodeServer(new Uint8Array(d));
        member.frames.push(frame);
        if (frame.type === 'welcome') {
          member.session = frame.session;
          resolve();
        }
        if (frame.type === 'presence') member.room.apply(frame.update);
      });
      member.ws.on('close', (code) => {
        member.closed = { code };
        reject(new Error(`closed ${code}`));
      });
    });
    return member;
  }

  /** Writes `key` in its own store and sends that key's update. */
  say(key: string, state: unknown): void {
    if (state === null) this.mine.delete(key);
    else this.mine.set(key, state);
    this.ws.send(encodeClient.presence(this.mine.encode(key)));
  }

  peers(): PresencePeer[] {
    return Object.entries(this.room.states()).flatMap(([k, v]) => presencePeerFrom(k, v) ?? []);
  }

  async whenClosed(): Promise<number> {
    await eventually(() => this.closed !== undefined);
    return this.closed!.code;
  }

  close(): void {
    this.ws.close();
    this.mine.destroy();
    this.room.destroy();
  }
}

for (const dialect of dialectsUnderTest()) {
  describe(`presence over the ephemeral store [${dialect}]`, () => {
    let t: ModuleTestApp;
    let db: TestDatabase;
    const clients: CollabClient[] = [];
    const raws: RawMember[] = [];

    beforeAll(async () => {
      db = await createTestDatabase(dialect);
      t = await createModuleTestApp({
        databaseUrl: db.url,
        listen: true,
        maps: { identity: testIdentity },
        collab: { limits: { presenceTimeoutMs: TIMEOUT_MS, presencePerSecond: 20, presenceBurst: 5 } },
      });
    });
    afterAll(async () => {
      for (const c of clients) c.close();
      for (const r of raws) r.close();
      await t.close();
      await db.drop();
    });

    const api = (method: 'POST', url: string, who: Who, payload: object) =>
      t.app.inject({
        method,
        url: `/api/v1${url}`,
        headers: { authorization: testAuthorization(who.accountId, who.tenantId) },
        payload,
      });
    const newMap = async (title: string) => {
      const id = (await api('POST', '/maps', alice, { title })).json<{ id: string }>().id;
      for (const who of [bob, carol])
        await api('POST', `/maps/${id}/shares`, alice, { email: `${who.accountId}@t1`, role: 'viewer' });
      return id;
    };
    /** An SDK client refreshing its presence well within the server's timeout. */
    const client = async (who: Who, mapId: string) => {
      const c = new CollabClient({
        WebSocket: NodeWebSocket,
        url: () => ticketUrl(t.app, t.url, who, mapId),
        backoff: { initialMs: 20, maxMs: 500 },
        presenceRefreshMs: TIMEOUT_MS / 4,
      });
      clients.push(c);
      c.connect();
      await onlineAll([c]);
      return c;
    };
    const raw = async (who: Who, mapId: string) => {
      const r = await RawMember.join(await ticketUrl(t.app, t.url, who, mapId));
      raws.push(r);
      return r;
    };
    const statesOf = (c: CollabClient) =>
      [...c.peers.values()].map((p) => ({ accountId: p.accountId, state: p.state }));

    it("relays each member's state stamped with its account, and removes a leaver's at once (R17, R19)", async () => {
      const mapId = await newMap('Relay');
      const a = await client(alice, mapId);
      const b = await client(bob, mapId);
      a.setPresence({ name: 'Alice', selection: 'x' });
      await eventually(() => b.peers.size === 1);
      expect([...b.peers.values()]).toEqual([
        { session: a.session, accountId: 'alice', state: { name: 'Alice', selection: 'x' } },
      ]);
      a.setPresence({ name: 'Alice', selection: 'y' });
      await eventually(() => statesOf(b)[0]?.state !== undefined && b.peers.get(a.session!)?.state !== null);
      await eventually(
        () => (b.peers.get(a.session!)?.state as { selection?: string } | undefined)?.selection === 'y',
      );
      a.close();
      await eventually(() => b.peers.size === 0);
      // Presence is never stored: the map's log holds no entry for any of it.
      const tail = await mapsModule(t.deps).content.readAfter('t1', mapId, -1);
      expect(tail?.entries).toEqual([]);
    });

    it('removes the state of a member that leaves in the same millisecond as it spoke (R19)', async () => {
      const mapId = await newMap('Quick exit');
      const watcher = await raw(alice, mapId);
      for (let i = 0; i < 5; i++) {
        const quick = await raw(bob, mapId);
        quick.say(presenceKey(quick.session), { name: 'Bob', i });
        quick.ws.close();
        // Loro stamps entries in milliseconds and keeps a key's newer entry: the deletion must not share the
        // state's millisecond, or every client would keep the state for good.
        await eventually(() => watcher.frames.filter((f) => f.type === 'presence').length === 2 * (i + 1));
        expect(watcher.peers()).toEqual([]);
      }
    });

    it('gives a joiner every current state right after its welcome (R19)', async () => {
      const mapId = await newMap('Joiner');
      const a = await client(alice, mapId);
      const b = await client(bob, mapId);
      a.setPresence({ name: 'Alice' });
      b.setPresence({ name: 'Bob' });
      await eventually(() => a.peers.size === 1 && b.peers.size === 1);
      const c = await raw(carol, mapId);
      const welcomeAt = c.frames.findIndex((f) => f.type === 'welcome');
      await eventually(() => c.peers().length === 2);
      expect(c.frames.findIndex((f) => f.type === 'presence')).toBeGreaterThan(welcomeAt);
      // Session numbers are drawn at random (R17): order by account.
      expect(c.peers().sort((x, y) => x.accountId.localeCompare(y.accountId))).toEqual([
        { session: a.session, accountId: 'alice', state: { name: 'Alice' } },
        { session: b.session, accountId: 'bob', state: { name: 'Bob' } },
      ]);
    });

    it("refuses an update that writes or deletes another member's key, and nobody hears of it (R18)", async () => {
      const mapId = await newMap('Impostor');
      const a = await client(alice, mapId);
      a.setPresence({ name: 'Alice' });
      const watcher = await client(carol, mapId);
      await eventually(() => watcher.peers.size === 1);

      const mallory = await raw(bob, mapId);
      mallory.say(presenceKey(a.session!), { name: 'Alice', selection: 'forged' });
      expect(await mallory.whenClosed()).toBe(CloseCode.policy);
      expect(mallory.frames.at(-1)).toMatchObject({ type: 'error', problem: { code: 'presence_forbidden' } });

      const deleter = await raw(bob, mapId);
      deleter.say(presenceKey(deleter.session), { name: 'Bob' });
      deleter.say(presenceKey(a.session!), null);
      expect(await deleter.whenClosed()).toBe(CloseCode.policy);

      // Its own key beside another's in one update: refused as a whole.
      const both = await raw(bob, mapId);
      both.mine.set(presenceKey(both.session), { name: 'Bob' });
      both.mine.set(presenceKey(a.session!), { name: 'not Alice' });
      both.ws.send(encodeClient.presence(both.mine.encodeAll()));
      expect(await both.whenClosed()).toBe(CloseCode.policy);

      await eventually(() => watcher.peers.size === 1);
      expect(statesOf(watcher)).toEqual([{ accountId: 'alice', state: { name: 'Alice' } }]);
    });

    it('closes with 1008 on presence bytes that are not an ephemeral-store update (R7, R18)', async () => {
      const mapId = await newMap('Garbage presence');
      const r = await raw(alice, mapId);
      r.ws.send(encodeClient.presence(new Uint8Array([1, 1, 0x31, 9, 9, 9])));
      expect(await r.whenClosed()).toBe(CloseCode.policy);
    });

    it('expires a state its member stops refreshing, and tells the others (R19)', async () => {
      const mapId = await newMap('Stale');
      const watcher = await client(alice, mapId);
      const refreshing = await client(carol, mapId);
      refreshing.setPresence({ name: 'Carol' });
      const silent = await raw(bob, mapId);
      silent.say(presenceKey(silent.session), { name: 'Bob' });
      await eventually(() => watcher.peers.size === 2);
      // The silent member's socket stays open; only its state goes stale.
      await eventually(() => watcher.peers.size === 1);
      expect(statesOf(watcher)).toEqual([{ accountId: 'carol', state: { name: 'Carol' } }]);
      expect(silent.closed).toBeUndefined();
      // Carol, refreshing every TIMEOUT_MS / 4, outlives several timeouts.
      await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS * 3));
      expect(statesOf(watcher)).toEqual([{ accountId: 'carol', state: { name: 'Carol' } }]);
      // Speaking again brings the silent member back.
      silent.say(presenceKey(silent.session), { name: 'Bob again' });
      await eventually(() => watcher.peers.size === 2);
    });

    it('closes with 1008 on a presence update over 4 KiB, and on too many per second (R34)', async () => {
      const mapId = await newMap('Limits');
      const big = await raw(alice, mapId);
      big.say(presenceKey(big.session), { note: 'x'.repeat(5000) });
      expect(await big.whenClosed()).toBe(CloseCode.policy);

      const chatty = await raw(bob, mapId);
      for (let i = 0; i < 20; i++) chatty.say(presenceKey(chatty.session), { selection: `t${i}` });
      expect(await chatty.whenClosed()).toBe(CloseCode.policy);
      expect(chatty.frames.at(-1)).toMatchObject({ type: 'error', problem: { code: 'rate_limited' } });
    });

    it('closes a client of protocol version 1 (JSON presence) with 4409 (R4)', async () => {
      const mapId = await newMap('Old client');
      const ws = new WebSocket(await ticketUrl(t.app, t.url, alice, mapId));
      const frames: ServerFrame[] = [];
      ws.on('open', () => ws.send(encodeClient.hello(new Uint8Array(), 1)));
      ws.on('message', (d: Buffer) => frames.push(decodeServer(new Uint8Array(d))));
      const code = await new Promise<number>((resolve) => ws.on('close', resolve));
      expect(code).toBe(CloseCode.unsupportedVersion);
      expect(frames[0]).toMatchObject({ type: 'error', problem: { code: 'unsupported_version' } });
    });
  });
}
