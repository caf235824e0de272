/**
 * Fixed-window request counters, and the per-key budget built on them for the hottest route (licence
 * validation), checked in a callback-style onRequest hook.
 *
 * Every other route is limited by @fastify/rate-limit (security.ts). On validation that plugin was the largest
 * single cost left (bench/license-validate: about 9 µs of 70 per answer): its hook is async with three awaits,
 * and it marks each request with a symbol property, which gives request objects a second shape and makes
 * property reads on them megamorphic. The budget has the plugin's default semantics: a counter per key and fixed
 * window that starts with the key's first request; a request past `max` gets 429 `rate_limited` with Retry-After
 * and the budget headers. When Redis fails, requests go through (logged): a licence check must not stop every
 * client start because the limiter's store is down.
 *
 * The counters (`FixedWindows`) are in this process, or in Redis when it is configured (one script call, so every
 * node shares one count). Identity's anti-automation limits count on them too (modules/identity/rate-limits.ts).
 */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.ts';
import { rateLimited } from '../errors.ts';

/** `count` requests in the key's window so far (this one included); the window ends in `resetMs`. */
export type Counted = (err: Error | undefined, count: number, resetMs: number) => void;

const SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}`;

type CountingRedis = Redis & {
  canopyFixedWindow(
    key: string,
    windowMs: number,
    cb: (err: Error | null, res?: [number, number]) => void,
  ): void;
};

export interface FixedWindowsOptions {
  /** Shared counters; in this process without. */
  redis?: Redis | undefined;
  /** Redis key prefix. */
  namespace: string;
  /** Keys counted in this process at most (when full, ended windows go first, then the oldest running one). */
  maxKeys?: number;
  now?: () => number;
}

export class FixedWindows {
  private readonly local = new Map<string, { count: number; resetAt: number }>();
  private readonly redis: CountingRedis | undefined;
  private readonly now: () => number;
  private lastSweep = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: FixedWindowsOptions) {
    this.now = options.now ?? Date.now;
    if (options.redis) {
      const redis = options.redis as CountingRedis;
      if (typeof redis.canopyFixedWindow !== 'function') {
        redis.defineCommand('canopyFixedWindow', { numberOfKeys: 1, lua: SCRIPT });
      }
      this.redis = redis;
    }
  }

  /** Counts one request under `key`; `counted` runs at once in process, after one round trip with Redis. */
  count(key: string, windowMs: number, counted: Counted): void {
    if (this.redis) {
      return this.redis.canopyFixedWindow(`${this.options.namespace}${key}`, windowMs, (err, res) =>
        err || !res
          ? counted(err ?? new Error('no answer'), 0, windowMs)
          : counted(undefined, res[0], res[1]),
      );
    }
    const now = this.now();
    const entry = this.local.get(key);
    if (entry && now < entry.resetAt) {
      entry.count++;
      return counted(undefined, entry.count, entry.resetAt - now);
    }
    // When full: ended windows are dropped (a full pass at most once a second), and if none has ended, the
    // oldest running one is forgotten (a new window goes to the back of the map, so the front is the oldest).
    this.local.delete(key);
    const maxKeys = this.options.maxKeys ?? 100_000;
    if (this.local.size >= maxKeys && now - this.lastSweep >= 1_000) {
      this.lastSweep = now;
      for (const [k, w] of this.local) if (w.resetAt <= now) this.local.delete(k);
    }
    if (this.local.size >= maxKeys) {
      const oldest = this.local.keys().next();
      if (!oldest.done) this.local.delete(oldest.value);
    }
    this.local.set(key, { count: 1, resetAt: now + windowMs });
    counted(undefined, 1, windowMs);
  }
}

export interface RouteBudgetOptions extends FixedWindowsOptions {
  /** Requests per window and key. */
  max: number;
  windowMs: number;
  logger: Logger;
}

export class RouteBudget {
  private readonly windows: FixedWindows;
  private lastWarning = 0;

  constructor(private readonly options: RouteBudgetOptions) {
    this.windows = new FixedWindows(options);
  }

  /** The onRequest hook that charges `keyOf(request)` and refuses past the budget. */
  hook(keyOf: (request: FastifyRequest) => string) {
    const { max, windowMs } = this.options;
    return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
      this.windows.count(keyOf(request), windowMs, (err, count, resetMs) => {
        if (err) this.warn(err);
        if (count <= max) return done();
        const seconds = Math.max(1, Math.ceil(resetMs / 1000));
        void reply
          .header('x-ratelimit-limit', String(max))
          .header('x-ratelimit-remaining', '0')
          .header('x-ratelimit-reset', String(seconds));
        done(rateLimited(seconds));
      });
    };
  }

  private warn(err: Error): void {
    const now = Date.now();
    if (now - this.lastWarning < 60_000) return;
    this.lastWarning = now;
    this.options.logger.warn(
      { err },
      'route budget: the counter store failed; requests pass unlimited meanwhile',
    );
  }
}
