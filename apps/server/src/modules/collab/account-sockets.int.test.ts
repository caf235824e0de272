/**
 * Sockets per account across nodes (docs/protocol/collab.md R32), against real Redis: two instances stand for
 * two nodes. Skipped without CANOPY_TEST_REDIS_URL. The gateway's use of it, over sockets on two nodes, is in
 * two-nodes.int.test.ts; the count on one node in limits.int.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisAccountSockets, type SocketLease } from './account-sockets.ts';
import { eventually } from './test-clients.ts';

const redisUrl = process.env.CANOPY_TEST_REDIS_URL;
const logger = pino({ level: 'silent' });

describe.skipIf(!redisUrl)('sockets per account across nodes, in Redis (R32)', () => {
  const connections: Redis[] = [];
  const counters: RedisAccountSockets[] = [];
  let prefix = '';

  /** A connection as the platform makes it (platform/index.ts). */
  const connect = async () => {
    const redis = new Redis(redisUrl!, {
      lazyConnect: true,
      maxRetriesPerRequest: 2,
      enableOfflineQueue: false,
    });
    connections.push(redis);
    await redis.connect();
    return redis;
  };
  /** One node's count, on a connection of its own. */
  const node = async (leaseMs?: number, connection?: Redis, aliveMs?: number) => {
    const redis = connection ?? (await connect());
    const counter = new RedisAccountSockets(redis, logger, {
      prefix,
      ...(leaseMs ? { leaseMs } : {}),
      ...(aliveMs ? { aliveMs } : {}),
    });
    counters.push(counter);
    return { counter, redis };
  };

  afterAll(async () => {
    for (const c of counters) await c.close();
    for (const r of connections) r.disconnect();
  });
  const fresh = () => (prefix = `canopy-test-${randomBytes(4).toString('hex')}:`);

  it('counts an account’s sockets on every node together, and frees a place when one closes', async () => {
    fresh();
    const one = (await node()).counter;
    const two = (await node()).counter;
    const held: SocketLease[] = [];
    for (const n of [one, one, two]) held.push((await n.acquire('t1', 'ada', 3))!);
    expect(held.every(Boolean)).toBe(true);
    expect(await one.acquire('t1', 'ada', 3)).toBeUndefined();
    expect(await two.acquire('t1', 'ada', 3)).toBeUndefined();
    // Another account, and the same account id in another tenant, have counts of their own.
    expect(await two.acquire('t1', 'bob', 3)).toBeDefined();
    expect(await two.acquire('t2', 'ada', 3)).toBeDefined();
    held[0]!.release();
    held[0]!.release(); // twice changes nothing
    await eventually(async () => {
      const lease = await two.acquire('t1', 'ada', 3);
      return lease !== undefined;
    });
    expect(await one.acquire('t1', 'ada', 3)).toBeUndefined();
  });

  it('keeps a live node’s leases past their lifetime, and lets a dead node’s lapse', async () => {
    fresh();
    const live = (await node(1_000)).counter;
    const dying = await node(1_000);
    const other = (await node(1_000)).counter;
    expect(await live.acquire('t1', 'ada', 2)).toBeDefined();
    expect(await dying.counter.acquire('t1', 'ada', 2)).toBeDefined();
    expect(await other.acquire('t1', 'ada', 2)).toBeUndefined();
    // The dying node loses Redis (as a crashed process would): it neither renews nor removes its lease.
    dying.redis.disconnect();
    await new Promise((r) => setTimeout(r, 2_500));
    // Two and a half lifetimes later, the live node's lease still counts (renewed); the dead node's has lapsed.
    expect(await other.acquire('t1', 'ada', 2)).toBeDefined();
    expect(await other.acquire('t1', 'ada', 2)).toBeUndefined();
  });

  it('drops a crashed node’s leases once its alive key is gone, long before they lapse, for an account at its limit', async () => {
    fresh();
    // Leases of a minute; nodes that say they are alive for 300 ms at a time.
    const live = (await node(60_000, undefined, 300)).counter;
    const crashing = await node(60_000, undefined, 300);
    const other = await node(60_000, undefined, 300);
    expect(await live.acquire('t1', 'ada', 3)).toBeDefined();
    expect(await crashing.counter.acquire('t1', 'ada', 3)).toBeDefined();
    expect(await crashing.counter.acquire('t1', 'ada', 3)).toBeDefined();
    // A lease of a node of an earlier version (no alive key, no mark): never taken for a dead node's.
    await other.redis.zadd(`${prefix}t1/bob`, Date.now() + 60_000, 'an-older-node:1');
    expect(await other.counter.acquire('t1', 'bob', 1)).toBeUndefined();
    expect(await other.counter.acquire('t1', 'ada', 3)).toBeUndefined();
    // Alive: its leases count however long it is asked.
    await new Promise((r) => setTimeout(r, 700));
    expect(await other.counter.acquire('t1', 'ada', 3)).toBeUndefined();
    // The crashing node loses Redis (as a crashed process would): its alive key lapses within 300 ms, and its
    // two leases stop counting; the live node's still counts.
    crashing.redis.disconnect();
    await new Promise((r) => setTimeout(r, 700));
    expect(await other.counter.acquire('t1', 'ada', 3)).toBeDefined();
    expect(await other.counter.acquire('t1', 'ada', 3)).toBeDefined();
    expect(await other.counter.acquire('t1', 'ada', 3)).toBeUndefined();
    expect(await other.counter.acquire('t1', 'bob', 1)).toBeUndefined();
    expect(await other.redis.zscore(`${prefix}t1/bob`, 'an-older-node:1')).not.toBeNull();
  });

  it('counts on the node alone while Redis does not answer: a socket is never refused for that', async () => {
    fresh();
    // Nothing listens on port 1.
    const down = new Redis({
      port: 1,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    });
    down.on('error', () => undefined);
    connections.push(down);
    const alone = (await node(undefined, down)).counter;
    const a = await alone.acquire('t1', 'ada', 2);
    const b = await alone.acquire('t1', 'ada', 2);
    expect(a && b).toBeDefined();
    expect(await alone.acquire('t1', 'ada', 2)).toBeUndefined();
    a!.release();
    expect(await alone.acquire('t1', 'ada', 2)).toBeDefined();
  });
});
