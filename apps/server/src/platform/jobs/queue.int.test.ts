import { beforeEach, expect, it } from 'vitest';
import { pino } from 'pino';
import { ManualClock } from '../clock.ts';
import { describeEachDialect } from '../db/testing.ts';
import { JobQueue } from './queue.ts';

const silent = pino({ level: 'silent' });

describeEachDialect('job queue', (h) => {
  let clock: ManualClock;
  const queue = (c: ManualClock) => new JobQueue(h.database, c, silent);

  beforeEach(async () => {
    clock = new ManualClock(Date.UTC(2026, 0, 1));
    await h.database.db.deleteFrom('jobs').execute();
    await h.database.db.deleteFrom('job_schedules').execute();
  });

  it('runs an enqueued job once, with its payload, and says it is done', async () => {
    const q = queue(clock);
    const seen: unknown[] = [];
    const outcomes: string[] = [];
    q.observe((job, outcome) => outcomes.push(`${job} ${outcome}`));
    q.define('greet', async (p: { name: string }) => void seen.push(p.name));
    await q.enqueue('greet', { name: 'ada' });
    expect(await q.drain()).toBe(1);
    expect(await q.drain()).toBe(0);
    expect(seen).toEqual(['ada']);
    expect((await q.list('done')).length).toBe(1);
    expect(outcomes).toEqual(['greet done']);
  });

  it('does not run a job before its time', async () => {
    const q = queue(clock);
    let ran = 0;
    q.define('later', async () => void ran++);
    await q.enqueue('later', {}, { runAt: new Date(clock.now().getTime() + 60_000) });
    expect(await q.drain()).toBe(0);
    clock.advance(60_000);
    expect(await q.drain()).toBe(1);
    expect(ran).toBe(1);
  });

  it('retries with backoff and keeps a job that keeps failing as dead, with its error', async () => {
    const q = queue(clock);
    const outcomes: string[] = [];
    q.observe((job, outcome) => outcomes.push(`${job} ${outcome}`));
    let attempts = 0;
    q.define(
      'flaky',
      async () => {
        attempts++;
        throw new Error(`boom ${attempts}`);
      },
      { maxAttempts: 3, backoffMs: (n) => n * 1_000 },
    );
    await q.enqueue('flaky');
    expect(await q.drain()).toBe(1);
    expect(await q.drain()).toBe(0); // backing off 1 s
    clock.advance(1_000);
    expect(await q.drain()).toBe(1);
    clock.advance(2_000);
    expect(await q.drain()).toBe(1);
    clock.advance(60_000);
    expect(await q.drain()).toBe(0);
    expect(attempts).toBe(3);
    expect(outcomes).toEqual(['flaky retry', 'flaky retry', 'flaky dead']);
    const dead = await q.list('dead');
    expect(dead).toHaveLength(1);
    expect(dead[0]?.last_error).toContain('boom 3');
    expect(await q.retryDead(dead[0]!.id)).toBe(true);
    expect((await q.list('pending')).length).toBe(1);
  });

  it('keeps at most one active job per key', async () => {
    const q = queue(clock);
    q.define('once', async () => {});
    expect(await q.enqueue('once', {}, { key: 'k' })).not.toBeNull();
    expect(await q.enqueue('once', {}, { key: 'k' })).toBeNull();
    await q.drain();
    expect(await q.enqueue('once', {}, { key: 'k' })).not.toBeNull();
  });

  it('lets only one of two nodes claim a job', async () => {
    const a = queue(clock);
    const b = queue(clock);
    let runs = 0;
    for (const q of [a, b]) q.define('single', async () => void runs++);
    for (let i = 0; i < 20; i++) await a.enqueue('single');
    const [ra, rb] = await Promise.all([a.drain(), b.drain()]);
    expect(ra + rb).toBe(20);
    expect(runs).toBe(20);
  });

  it('takes over a job whose runner died when its lease expires', async () => {
    const dying = queue(clock);
    const survivor = queue(clock);
    let finished = 0;
    dying.define('long', () => new Promise<void>(() => {}), { leaseMs: 30_000 }); // never settles: the node "dies"
    survivor.define('long', async () => void finished++, { leaseMs: 30_000 });
    await dying.enqueue('long');
    void dying.runOne();
    await new Promise((r) => setTimeout(r, 50));
    expect(await survivor.drain()).toBe(0); // lease still held
    clock.advance(30_001);
    expect(await survivor.drain()).toBe(1);
    expect(finished).toBe(1);
    const done = await survivor.list('done');
    expect(done[0]?.attempts).toBe(2);
  });

  it('enqueues a periodic job once per period across nodes, and skips a period while the last run is active', async () => {
    const a = queue(clock);
    const b = queue(clock);
    let runs = 0;
    for (const q of [a, b]) {
      q.define('tick', async () => void runs++);
      await q.schedule('tick', 60_000);
    }
    expect(await a.tickSchedules()).toBe(0);
    clock.advance(60_000);
    const [ea, eb] = await Promise.all([a.tickSchedules(), b.tickSchedules()]);
    expect(ea + eb).toBe(1);
    clock.advance(60_000);
    expect(await b.tickSchedules()).toBe(0); // the first period's job is still pending: no second one
    await a.drain();
    expect(runs).toBe(1);
    clock.advance(60_000);
    await b.drain();
    expect(runs).toBe(2);
  });
});
