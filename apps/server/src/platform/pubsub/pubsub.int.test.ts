import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createInProcessPubSub, createRedisPubSub, InProcessHub, type PubSub } from './index.ts';

const REDIS_URL = process.env.CANOPY_TEST_REDIS_URL;

/** The suite every adapter passes. `node()` makes another node of the same deployment. */
function pubSubSuite(name: string, makeDeployment: () => () => Promise<PubSub>) {
  describe(`pub/sub [${name}]`, () => {
    const open: PubSub[] = [];
    let deployment = makeDeployment();
    const node = async () => {
      const p = await deployment();
      open.push(p);
      return p;
    };
    afterEach(async () => {
      for (const p of open.splice(0)) await p.close();
      deployment = makeDeployment();
    });

    it('delivers messages to every subscriber of the channel, in publish order', async () => {
      const a = await node();
      const got1: string[] = [];
      const got2: string[] = [];
      await a.subscribe('room.1', (m) => void got1.push(m));
      await a.subscribe('room.1', (m) => void got2.push(m));
      for (let i = 0; i < 20; i++) await a.publish('room.1', `m${i}`);
      const want = Array.from({ length: 20 }, (_, i) => `m${i}`);
      await vi.waitFor(() => expect(got1).toEqual(want));
      await vi.waitFor(() => expect(got2).toEqual(want));
    });

    it('carries messages between nodes, and not across channels', async () => {
      const a = await node();
      const b = await node();
      const onB: [string, string][] = [];
      await b.subscribe('room.x', (m, c) => void onB.push([c, m]));
      await a.publish('room.y', 'not for you');
      await a.publish('room.x', '{"v":1}');
      await vi.waitFor(() => expect(onB).toEqual([['room.x', '{"v":1}']]));
    });

    it('stops delivering to a handler after it unsubscribes, and keeps the others', async () => {
      const a = await node();
      const kept: string[] = [];
      const dropped: string[] = [];
      const stop = await a.subscribe('busting', (m) => void dropped.push(m));
      await a.subscribe('busting', (m) => void kept.push(m));
      await a.publish('busting', 'one');
      await vi.waitFor(() => expect(dropped).toEqual(['one']));
      await stop();
      await a.publish('busting', 'two');
      await vi.waitFor(() => expect(kept).toEqual(['one', 'two']));
      expect(dropped).toEqual(['one']);
    });

    it('survives a handler that throws', async () => {
      const a = await node();
      const got: string[] = [];
      await a.subscribe('err', () => {
        throw new Error('handler bug');
      });
      await a.subscribe('err', async () => Promise.reject(new Error('async handler bug')));
      await a.subscribe('err', (m) => void got.push(m));
      await a.publish('err', 'x');
      await a.publish('err', 'y');
      await vi.waitFor(() => expect(got).toEqual(['x', 'y']));
    });

    it('refuses malformed channel names', async () => {
      const a = await node();
      await expect(a.publish('', 'x')).rejects.toThrow(/channel/);
      await expect(a.subscribe('a b', () => {})).rejects.toThrow(/channel/);
    });
  });
}

pubSubSuite('memory', () => {
  const hub = new InProcessHub();
  return async () => createInProcessPubSub({ hub });
});

if (REDIS_URL) {
  pubSubSuite('redis', () => {
    const prefix = `canopy-test-${randomBytes(4).toString('hex')}:`;
    return () => createRedisPubSub({ url: REDIS_URL, prefix });
  });
} else {
  describe.skip('pub/sub [redis] (set CANOPY_TEST_REDIS_URL)', () => {
    it('runs the same suite against Redis', () => {});
  });
}

if (REDIS_URL) {
  describe('pub/sub [redis]: a lost connection', () => {
    /** Redis drops one of a pub/sub's two connections (as a restart or a network cut would). */
    async function kill(admin: Redis, connectionName: string): Promise<void> {
      const clients = (await admin.client('LIST')) as string;
      const id = /(?:^|\n)id=(\d+) [^\n]* name=([^ ]+)/g;
      const ids = [...clients.matchAll(id)].filter((m) => m[2] === connectionName).map((m) => m[1]!);
      expect(ids).toHaveLength(1);
      await admin.client('KILL', 'ID', ids[0]!);
    }

    async function pair() {
      const prefix = `canopy-test-${randomBytes(4).toString('hex')}:`;
      const name = `canopy-test-${randomBytes(4).toString('hex')}`;
      const a = await createRedisPubSub({ url: REDIS_URL!, prefix, connectionName: name });
      const b = await createRedisPubSub({ url: REDIS_URL!, prefix });
      const admin = new Redis(REDIS_URL!);
      const got: string[] = [];
      await a.subscribe('room.1', (m) => void got.push(m));
      let reconnected = 0;
      a.onReconnected(() => reconnected++);
      return {
        a,
        b,
        name,
        admin,
        got,
        reconnected: () => reconnected,
        async close() {
          admin.disconnect();
          await a.close();
          await b.close();
        },
      };
    }

    it('subscribes again, says so, and delivers what is published afterwards', async () => {
      const t = await pair();
      try {
        await t.b.publish('room.1', 'before');
        await vi.waitFor(() => expect(t.got).toEqual(['before']));
        await kill(t.admin, `${t.name}-sub`);
        await vi.waitFor(() => expect(t.reconnected()).toBe(1), { timeout: 10_000 });
        await t.b.publish('room.1', 'after');
        await vi.waitFor(() => expect(t.got).toEqual(['before', 'after']));
      } finally {
        await t.close();
      }
    });

    it('says so when the publishing connection comes back, and publishes again', async () => {
      const t = await pair();
      try {
        const heard: string[] = [];
        await t.b.subscribe('room.2', (m) => void heard.push(m));
        await kill(t.admin, `${t.name}-pub`);
        await vi.waitFor(() => expect(t.reconnected()).toBe(1), { timeout: 10_000 });
        await t.a.publish('room.2', 'after');
        await vi.waitFor(() => expect(heard).toEqual(['after']));
        // The subscriber was not touched: it heard everything and is not subscribed again.
        await t.b.publish('room.1', 'still');
        await vi.waitFor(() => expect(t.got).toEqual(['still']));
        expect(t.reconnected()).toBe(1);
      } finally {
        await t.close();
      }
    });
  });
}
