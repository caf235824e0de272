/**
 * Two nodes serving the same map (docs/protocol/collab.md R20, R21): clients on different nodes converge through
 * the pub/sub bell, and still converge from the SQL log when every ring is dropped. Runs with an
 * in-process bus on PostgreSQL and MySQL (several nodes need a server database); with Redis when CANOPY_TEST_DIALECTS includes postgres and
 * CANOPY_TEST_REDIS_URL is set.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import WebSocket from 'ws';
import { CloseCode, decodeServer, encodeClient, type CollabClient } from '@canopy/sdk';
import { createTestDatabase, dialectsUnderTest, type TestDatabase } from '../../platform/db/testing.ts';
import { createRedisPubSub } from '../../platform/pubsub/index.ts';
import type { DialectName } from '../../platform/db/connect.ts';
import { testAuthorization, testIdentity } from '../maps/index.ts';
// eslint-disable-next-line no-restricted-imports -- the test app of issue 7's two modules, shared by their tests
import { createModuleTestApp, type ModuleTestApp } from '../maps/test-app.ts';
import { RedisAccountSockets, type AccountSockets } from './account-sockets.ts';
import { InProcessBus, PubSubBus, type Bell, type CollabBus, type PresenceRelay } from './bus.ts';
import {
  eventually,
  mulberry32,
  onlineAll,
  randomEdit,
  startClient,
  ticketUrl,
  type Who,
} from './test-clients.ts';

interface Setup {
  name: string;
  dialect: DialectName;
  /** Sockets per account counted across the two nodes (R32): with Redis. */
  accountSockets?: () => Promise<[AccountSockets, AccountSockets]>;
  buses: () => Promise<{
    buses: [CollabBus, CollabBus];
    drop(on: boolean): void;
    /** The second node's bus loses its connection and gets it back. */
    reconnect(): Promise<void>;
    close(): Promise<void>;
  }>;
}

// Several nodes need a server database: SQLite is the embedded, single-node setup (ARCHITECTURE.md).
const serverDialects = dialectsUnderTest().filter((d) => d !== 'sqlite');
const setups: Setup[] = serverDialects.map((dialect) => ({
  name: `${dialect}, in-process bus`,
  dialect,
  buses: async () => {
    const bus = new InProcessBus();
    return {
      buses: [bus, bus],
      drop: (on) => void (bus.dropping = on),
      reconnect: async () => bus.resubscribe(),
      close: () => bus.close(),
    };
  },
}));
const redisUrl = process.env.CANOPY_TEST_REDIS_URL;
if (redisUrl && dialectsUnderTest().includes('postgres')) {
  setups.push({
    name: 'postgres, Redis',
    dialect: 'postgres',
    accountSockets: async () => {
      const prefix = `canopy-test-${randomBytes(4).toString('hex')}:`;
      const counts = [0, 1].map(async () => {
        const redis = new Redis(redisUrl, { lazyConnect: true, enableOfflineQueue: false });
        await redis.connect();
        return new RedisAccountSockets(redis, pino({ level: 'silent' }), { prefix });
      });
      return (await Promise.all(counts)) as [RedisAccountSockets, RedisAccountSockets];
    },
    buses: async () => {
      const prefix = `canopy-test-${randomBytes(4).toString('hex')}:`;
      const name = `${prefix}b`;
      const a = new PubSubBus(await createRedisPubSub({ url: redisUrl, prefix }), true);
      const b = new PubSubBus(await createRedisPubSub({ url: redisUrl, prefix, connectionName: name }), true);
      await Promise.all([a.ready(), b.ready()]);
      return {
        buses: [a, b],
        drop: (on) => {
          a.dropping = on;
          b.dropping = on;
        },
        // Redis drops b's subscriber connection, as a restart or a network cut would; ioredis reconnects.
        reconnect: async () => {
          const admin = new Redis(redisUrl);
          try {
            const list = (await admin.client('LIST')) as string;
            const line = list.split('\n').find((l) => l.includes(` name=${name}-sub `));
            const id = /^id=(\d+)/.exec(line ?? '')?.[1];
            if (!id) throw new Error('no subscriber connection to drop');
            await admin.client('KILL', 'ID', id);
          } finally {
            admin.disconnect();
          }
        },
        close: async () => {
          await a.close();
          await b.close();
        },
      };
    },
  });
}

/** A node's bus that can go silent both ways, as when the node dies (its process killed, its machine gone). */
class Silenceable implements CollabBus {
  silent = false;
  constructor(private readonly inner: CollabBus) {}
  publish(bell: Bell): void {
    if (!this.silent) this.inner.publish(bell);
  }
  subscribe(listener: (bell: Bell) => void): () => void {
    return this.inner.subscribe((bell) => this.silent || listener(bell));
  }
  publishPresence(relay: PresenceRelay): void {
    if (!this.silent) this.inner.publishPresence(relay);
  }
  subscribePresence(listener: (relay: PresenceRelay) => void): () => void {
    return this.inner.subscribePresence((relay) => this.silent || listener(relay));
  }
  publishAlive(node: string): void {
    if (!this.silent) this.inner.publishAlive(node);
  }
  subscribeAlive(listener: (node: string) => void): () => void {
    return this.inner.subscribeAlive((node) => this.silent || listener(node));
  }
  onReconnected(listener: () => void): () => void {
    return this.inner.onReconnected(listener);
  }
  async close(): Promise<void> {
    // the setup closes the bus it made
  }
}

/** Waits until `check` holds, failing with `message` after 10 s: well before a state would expire (90 s). */
async function within10s(check: () => boolean, message: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), 10_000);
  });
  await Promise.race([eventually(check), late]).finally(() => clearTimeout(timer));
}

const alice: Who = { accountId: 'alice', tenantId: 't1' };
const bob: Who = { accountId: 'bob', tenantId: 't1' };

if (setups.length === 0)
  describe.skip('two nodes (needs CANOPY_TEST_DIALECTS with postgres or mysql)', () => undefined);
for (const setup of setups) {
  describe(`two nodes, one map [${setup.name}]`, () => {
    let db: TestDatabase;
    let nodes: ModuleTestApp[];
    let dataDir: string;
    let bus: Awaited<ReturnType<Setup['buses']>>;
    const clients: CollabClient[] = [];

    let counts: AccountSockets[] = [];
    let secondBus: Silenceable;
    beforeAll(async () => {
      db = await createTestDatabase(setup.dialect);
      bus = await setup.buses();
      counts = (await setup.accountSockets?.()) ?? [];
      nodes = [];
      // One deployment: both nodes read the same root key (here the keyring file in a shared data dir).
      dataDir = mkdtempSync(join(tmpdir(), 'canopy-two-nodes-'));
      secondBus = new Silenceable(bus.buses[1]);
      for (const [i, b] of [bus.buses[0], secondBus].entries()) {
        const accountSockets = counts[i];
        nodes.push(
          await createModuleTestApp({
            databaseUrl: db.url,
            dataDir,
            listen: true,
            maps: { identity: testIdentity },
            collab: {
              bus: b,
              checkIntervalMs: 250,
              aliveIntervalMs: 100,
              nodeTimeoutMs: 1_000,
              ...(accountSockets ? { accountSockets } : {}),
            },
          }),
        );
      }
    });
    afterAll(async () => {
      for (const c of clients) c.close();
      for (const n of nodes) await n.close();
      await bus.close();
      for (const c of counts) await c.close();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    /** Closes these clients (the test is done with them, or one leaves mid-test). */
    const leave = (...gone: CollabClient[]) => {
      for (const c of gone) {
        c.close();
        clients.splice(clients.indexOf(c), 1);
      }
    };

    /** A map alice created on `node`, shared with bob as editor. */
    const aliceSharesWithBob = async (node: ModuleTestApp, title: string) => {
      const headers = { authorization: testAuthorization('alice', 't1') };
      const created = await node.app.inject({
        method: 'POST',
        url: '/api/v1/maps',
        headers,
        payload: { title },
      });
      const mapId = created.json<{ id: string }>().id;
      await node.app.inject({
        method: 'POST',
        url: `/api/v1/maps/${mapId}/shares`,
        headers,
        payload: { email: 'bob@t1', role: 'editor' },
      });
      return mapId;
    };

    it('clients on different nodes converge through the bell, and from the log when rings are dropped', async () => {
      const [one, two] = nodes as [ModuleTestApp, ModuleTestApp];
      const mapId = await aliceSharesWithBob(one, 'Two nodes');
      const group = [
        startClient(one.app, one.url, alice, mapId),
        startClient(one.app, one.url, bob, mapId),
        startClient(two.app, two.url, alice, mapId),
        startClient(two.app, two.url, bob, mapId),
      ];
      clients.push(...group);
      const maps = await Promise.all(group.map((c) => c.whenLoaded()));
      await onlineAll(group);
      const rnd = mulberry32(11);
      const converged = async () => {
        await Promise.all(group.map((c) => c.whenSaved()));
        const doc = JSON.stringify(
          (
            await one.app.inject({
              url: `/api/v1/maps/${mapId}/document`,
              headers: { authorization: testAuthorization('alice', 't1') },
            })
          ).json(),
        );
        await eventually(() => maps.every((m) => JSON.stringify(m.toJSON()) === doc));
        return doc;
      };

      for (let round = 0; round < 10; round++)
        maps.forEach((m, i) => randomEdit(m, rnd, `bell r${round} c${i}`));
      const withBell = await converged();
      expect(withBell).toContain('bell r9');

      bus.drop(true);
      for (let round = 0; round < 10; round++)
        maps.forEach((m, i) => randomEdit(m, rnd, `dropped r${round} c${i}`));
      const fromLog = await converged();
      expect(fromLog).toContain('dropped r9');
      bus.drop(false);
    });

    it('members on different nodes see each other’s presence, and a room opened later asks for it (R17)', async () => {
      const [one, two] = nodes as [ModuleTestApp, ModuleTestApp];
      const mapId = await aliceSharesWithBob(one, 'Presence on two nodes');
      const seen = (c: CollabClient) =>
        [...c.peers.values()].map((p) => ({ accountId: p.accountId, state: p.state }));

      const a = startClient(one.app, one.url, alice, mapId);
      clients.push(a);
      await a.whenLoaded();
      await onlineAll([a]);
      a.setPresence({ selection: 'x' });
      // Node two opens its room for this map only now: it asks node one for the states it holds.
      const b = startClient(two.app, two.url, bob, mapId);
      clients.push(b);
      await b.whenLoaded();
      await onlineAll([b]);
      // Well before alice's client sends its state again (every 20 s): the answer to the ask.
      await within10s(() => seen(b).length === 1, 'no answer to the ask');
      expect(seen(b)).toEqual([{ accountId: 'alice', state: { selection: 'x' } }]);

      b.setPresence({ selection: 'y' });
      await eventually(() => seen(a).length === 1);
      expect(seen(a)).toEqual([{ accountId: 'bob', state: { selection: 'y' } }]);
      a.setPresence({ selection: 'z' });
      await eventually(
        () => JSON.stringify(seen(b)) === JSON.stringify([{ accountId: 'alice', state: { selection: 'z' } }]),
      );
      // Two nodes drew the session numbers: the keys differ.
      expect([...b.peers.keys()]).not.toContain([...a.peers.keys()][0]);

      leave(a);
      await eventually(() => seen(b).length === 0);
    });

    it('after the bus lost messages and reconnected, the rooms trade presence again at once (R17)', async () => {
      const [one, two] = nodes as [ModuleTestApp, ModuleTestApp];
      const mapId = await aliceSharesWithBob(one, 'The bus reconnects');
      const seen = (c: CollabClient) => JSON.stringify([...c.peers.values()].map((p) => p.state));
      const a = startClient(one.app, one.url, alice, mapId);
      const b = startClient(two.app, two.url, bob, mapId);
      clients.push(a, b);
      await Promise.all([a.whenLoaded(), b.whenLoaded()]);
      await onlineAll([a, b]);
      a.setPresence({ selection: 'before' });
      await eventually(() => seen(b) === JSON.stringify([{ selection: 'before' }]));

      // Lost on the way, as during an outage; alice's client sends it again only in 20 s.
      bus.drop(true);
      a.setPresence({ selection: 'during' });
      await new Promise((r) => setTimeout(r, 300));
      bus.drop(false);
      expect(seen(b)).toBe(JSON.stringify([{ selection: 'before' }]));
      await bus.reconnect();
      await within10s(
        () => seen(b) === JSON.stringify([{ selection: 'during' }]),
        'presence not traded after the reconnect',
      );

      leave(a, b);
    });

    it.skipIf(!setup.accountSockets)(
      'counts an account’s sockets on both nodes together: beyond 20 in all, 4429 (R32)',
      async () => {
        const [one, two] = nodes as [ModuleTestApp, ModuleTestApp];
        const mapId = await aliceSharesWithBob(one, 'Tabs on two nodes');
        const dave: Who = { accountId: 'dave', tenantId: 't1' };
        await one.app.inject({
          method: 'POST',
          url: `/api/v1/maps/${mapId}/shares`,
          headers: { authorization: testAuthorization('alice', 't1') },
          payload: { email: 'dave@t1', role: 'viewer' },
        });
        /** A socket of dave's on `node`: 'welcome', or the code it was closed with. */
        const open = async (node: ModuleTestApp) => {
          const ws = new WebSocket(await ticketUrl(node.app, node.url, dave, mapId));
          const outcome = new Promise<'welcome' | number>((resolve) => {
            ws.on('open', () => ws.send(encodeClient.hello(new Uint8Array())));
            ws.on('message', (d: Buffer) => {
              if (decodeServer(new Uint8Array(d)).type === 'welcome') resolve('welcome');
            });
            ws.on('close', (code) => resolve(code));
          });
          return { ws, outcome: await outcome };
        };
        const tabs = [];
        for (let i = 0; i < 20; i++) tabs.push(await open(i % 2 === 0 ? one : two));
        expect(tabs.map((t) => t.outcome)).toEqual(Array(20).fill('welcome'));
        expect((await open(one)).outcome).toBe(CloseCode.tooManyConnections);
        expect((await open(two)).outcome).toBe(CloseCode.tooManyConnections);
        // A tab closed on node one frees a place on node two.
        tabs[0]!.ws.close();
        await eventually(async () => {
          const next = await open(two);
          if (next.outcome === 'welcome') tabs.push(next);
          return next.outcome === 'welcome';
        });
        for (const t of tabs) t.ws.close();
      },
    );

    it("drops a dead node's members' presence once it has been silent for the timeout (R17)", async () => {
      const [one, two] = nodes as [ModuleTestApp, ModuleTestApp];
      const mapId = await aliceSharesWithBob(one, 'A node dies');
      const seen = (c: CollabClient) => [...c.peers.values()].map((p) => p.accountId);
      const b = startClient(one.app, one.url, bob, mapId);
      const a = startClient(two.app, two.url, alice, mapId);
      clients.push(a, b);
      await Promise.all([a.whenLoaded(), b.whenLoaded()]);
      await onlineAll([a, b]);
      a.setPresence({ selection: 'there' });
      await eventually(() => seen(b).length === 1);
      // Node two goes silent, as if killed: no leave is ever sent. Well before the state would expire (90 s),
      // node one takes it for dead and drops alice's state.
      secondBus.silent = true;
      try {
        await within10s(() => seen(b).length === 0, "the dead node's presence stayed");
      } finally {
        secondBus.silent = false;
      }
      const metrics = (await one.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(Number(/canopy_collab_nodes_lost_total (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
      leave(a, b);
    });

    it('after the bus lost a leave and reconnected, the other node deletes the state at once (R17, R19)', async () => {
      const [one, two] = nodes as [ModuleTestApp, ModuleTestApp];
      const mapId = await aliceSharesWithBob(one, 'A leave lost on the way');
      const seen = (c: CollabClient) => [...c.peers.values()].map((p) => p.accountId);
      const a = startClient(one.app, one.url, alice, mapId);
      const b = startClient(two.app, two.url, bob, mapId);
      // A second member on node one keeps its room open after alice leaves.
      const a2 = startClient(one.app, one.url, alice, mapId);
      clients.push(a, b, a2);
      await Promise.all([a.whenLoaded(), b.whenLoaded(), a2.whenLoaded()]);
      await onlineAll([a, b, a2]);
      a.setPresence({ selection: 'here' });
      await eventually(() => seen(b).length === 1);

      // The deletion is lost on the way; without the answers it would stay until it expires (90 s).
      bus.drop(true);
      leave(a);
      await eventually(() => a2.peers.size === 0);
      await new Promise((r) => setTimeout(r, 100));
      bus.drop(false);
      expect(seen(b)).toEqual(['alice']);
      await bus.reconnect();
      await within10s(() => seen(b).length === 0, 'the lost leave did not arrive after the reconnect');

      leave(b, a2);
    });
  });
}
