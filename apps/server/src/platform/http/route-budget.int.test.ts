import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { FixedWindows, RouteBudget, type FixedWindowsOptions } from './route-budget.ts';
import { installProblemHandlers } from './problem.ts';

const REDIS_URL = process.env.CANOPY_TEST_REDIS_URL;
const silent = pino({ level: 'silent' });

/** Counts `key` once in a minute's window and returns what the counters answered. */
const take = (windows: FixedWindows, key: string, windowMs = 60_000) =>
  new Promise<{ count: number; resetMs: number }>((resolve, reject) =>
    windows.count(key, windowMs, (err, count, resetMs) => (err ? reject(err) : resolve({ count, resetMs }))),
  );

/** A route limited to `max` requests a minute per `x-client` header. */
function hotRoute(budget: RouteBudget) {
  const app = Fastify();
  installProblemHandlers(app);
  app.get('/hot', { onRequest: budget.hook((r) => String(r.headers['x-client'])) }, async () => ({}));
  return { app, call: (client: string) => app.inject({ url: '/hot', headers: { 'x-client': client } }) };
}

/** The suite both stores pass; `options()` gives each budget of one deployment (one per node). */
function budgetSuite(name: string, options: () => FixedWindowsOptions) {
  describe(`route budget [${name}]`, () => {
    it('counts per key within the window', async () => {
      const budget = new FixedWindows(options());
      const counts = [];
      for (let i = 0; i < 4; i++) counts.push((await take(budget, 'a')).count);
      expect(counts).toEqual([1, 2, 3, 4]);
      expect((await take(budget, 'b')).count).toBe(1);
      const { resetMs } = await take(budget, 'a');
      expect(resetMs).toBeGreaterThan(0);
      expect(resetMs).toBeLessThanOrEqual(60_000);
    });

    it('answers 429 rate_limited with Retry-After past the budget, and nothing extra before', async () => {
      const { app, call } = hotRoute(
        new RouteBudget({ max: 2, windowMs: 60_000, logger: silent, ...options() }),
      );
      const answered = [await call('ada'), await call('ada')];
      const refused = await call('ada');
      const other = await call('bob');
      await app.close();
      expect(answered.map((r) => r.statusCode)).toEqual([200, 200]);
      expect(Object.keys(answered[0]?.headers ?? {}).filter((h) => h.startsWith('x-ratelimit'))).toEqual([]);
      expect(refused.statusCode).toBe(429);
      expect(refused.json()).toMatchObject({ code: 'rate_limited' });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(refused.headers['x-ratelimit-limit']).toBe('2');
      expect(refused.headers['x-ratelimit-remaining']).toBe('0');
      expect(other.statusCode).toBe(200);
    });
  });
}

budgetSuite('in process', () => ({ namespace: 'unused:' }));

describe('route budget [in process]: windows and memory', () => {
  it('starts a new window once the old one is over', async () => {
    let now = 1_000_000;
    const windows = new FixedWindows({ namespace: '', now: () => now });
    expect((await take(windows, 'k', 1_000)).count).toBe(1);
    now += 999;
    expect(await take(windows, 'k', 1_000)).toEqual({ count: 2, resetMs: 1 });
    now += 1;
    expect(await take(windows, 'k', 1_000)).toEqual({ count: 1, resetMs: 1_000 });
  });

  it('when full, drops ended windows before it forgets a running one', async () => {
    let now = 1_000_000;
    const windows = new FixedWindows({ namespace: '', maxKeys: 2, now: () => now });
    await take(windows, 'running', 60_000);
    await take(windows, 'ended', 1_000);
    now += 2_000;
    await take(windows, 'new');
    expect((await take(windows, 'running')).count).toBe(2);
  });

  it('keeps at most maxKeys windows, forgetting the oldest first', async () => {
    const budget = new FixedWindows({ namespace: '', maxKeys: 2 });
    await take(budget, 'old');
    await take(budget, 'mid');
    await take(budget, 'mid');
    await take(budget, 'new');
    expect((await take(budget, 'mid')).count).toBe(3);
    expect((await take(budget, 'old')).count).toBe(1);
  });
});

if (REDIS_URL) {
  const clients: Redis[] = [];
  const client = () => {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    clients.push(redis);
    return redis;
  };
  afterAll(async () => {
    for (const redis of clients) redis.disconnect();
  });
  const namespace = `canopy-test-budget-${randomBytes(4).toString('hex')}:`;
  budgetSuite('redis', () => ({
    redis: client(),
    namespace: `${namespace}${randomBytes(4).toString('hex')}:`,
  }));

  describe('route budget [redis]: a cluster', () => {
    it('shares one budget between the nodes', async () => {
      const ns = `${namespace}shared:`;
      const nodes = [client(), client()].map((redis) => new FixedWindows({ redis, namespace: ns }));
      const counts = [];
      for (let i = 0; i < 4; i++) counts.push((await take(nodes[i % 2] as FixedWindows, 'ada')).count);
      expect(counts).toEqual([1, 2, 3, 4]);
      const ttl = await client().pttl(`${ns}ada`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    });

    it('lets requests through, with a warning, while Redis is unreachable', async () => {
      const down = new Redis('redis://127.0.0.1:1', {
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
      });
      clients.push(down);
      const warnings: unknown[] = [];
      const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
      const { app, call } = hotRoute(
        new RouteBudget({ max: 1, windowMs: 60_000, logger, redis: down, namespace }),
      );
      const statuses = [(await call('ada')).statusCode, (await call('ada')).statusCode];
      await app.close();
      expect(statuses).toEqual([200, 200]);
      expect(warnings).toHaveLength(1);
      await expect(take(new FixedWindows({ redis: down, namespace }), 'ada')).rejects.toThrow();
    });
  });
} else {
  describe.skip('route budget [redis] (set CANOPY_TEST_REDIS_URL)', () => {
    it('runs the same suite against Redis, and shares one budget between nodes', () => {});
  });
}
