import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { RouteBudget, type RouteBudgetOptions } from './route-budget.ts';
import { installProblemHandlers } from './problem.ts';

const REDIS_URL = process.env.CANOPY_TEST_REDIS_URL;
const silent = pino({ level: 'silent' });

/** Charges `key` once and returns what the budget answered. */
const take = (budget: RouteBudget, key: string) =>
  new Promise<{ count: number; resetMs: number }>((resolve) =>
    budget.take(key, (count, resetMs) => resolve({ count, resetMs })),
  );

/** The suite both stores pass; `options()` gives each budget of one deployment (one per node). */
function budgetSuite(name: string, options: () => Omit<RouteBudgetOptions, 'max' | 'windowMs' | 'logger'>) {
  describe(`route budget [${name}]`, () => {
    it('counts per key within the window', async () => {
      const budget = new RouteBudget({ max: 3, windowMs: 60_000, logger: silent, ...options() });
      const counts = [];
      for (let i = 0; i < 4; i++) counts.push((await take(budget, 'a')).count);
      expect(counts).toEqual([1, 2, 3, 4]);
      expect((await take(budget, 'b')).count).toBe(1);
      const { resetMs } = await take(budget, 'a');
      expect(resetMs).toBeGreaterThan(0);
      expect(resetMs).toBeLessThanOrEqual(60_000);
    });

    it('answers 429 rate_limited with Retry-After past the budget, and nothing extra before', async () => {
      const budget = new RouteBudget({ max: 2, windowMs: 60_000, logger: silent, ...options() });
      const app = Fastify();
      installProblemHandlers(app);
      app.get('/hot', { onRequest: budget.hook((r) => String(r.headers['x-client'])) }, async () => ({}));
      const call = (client: string) => app.inject({ url: '/hot', headers: { 'x-client': client } });
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
    const budget = new RouteBudget({
      max: 1,
      windowMs: 1_000,
      logger: silent,
      namespace: '',
      now: () => now,
    });
    expect((await take(budget, 'k')).count).toBe(1);
    now += 999;
    expect(await take(budget, 'k')).toEqual({ count: 2, resetMs: 1 });
    now += 1;
    expect(await take(budget, 'k')).toEqual({ count: 1, resetMs: 1_000 });
  });

  it('keeps at most maxKeys windows, forgetting the oldest first', async () => {
    const budget = new RouteBudget({ max: 5, windowMs: 60_000, logger: silent, namespace: '', maxKeys: 2 });
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
      const nodes = [client(), client()].map(
        (redis) => new RouteBudget({ max: 3, windowMs: 60_000, logger: silent, redis, namespace: ns }),
      );
      const counts = [];
      for (let i = 0; i < 4; i++) counts.push((await take(nodes[i % 2] as RouteBudget, 'ada')).count);
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
      const budget = new RouteBudget({ max: 1, windowMs: 60_000, logger, redis: down, namespace });
      const counts = [(await take(budget, 'x')).count, (await take(budget, 'x')).count];
      expect(counts).toEqual([0, 0]);
      expect(warnings).toHaveLength(1);
    });
  });
} else {
  describe.skip('route budget [redis] (set CANOPY_TEST_REDIS_URL)', () => {
    it('runs the same suite against Redis, and shares one budget between nodes', () => {});
  });
}
