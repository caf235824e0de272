/**
 * A per-key request budget for the hottest route (licence validation), checked in a callback-style onRequest
 * hook. Every other route is limited by @fastify/rate-limit (security.ts). On validation that plugin was the
 * largest single cost left (bench/license-validate: about 10 µs of 70 per answer): its hook is async with three
 * awaits, and it marks each request with a symbol property, which gives request objects a second shape and
 * makes property reads on them megamorphic.
 *
 * The budget has the plugin's default semantics: a counter per key and fixed window that starts with the key's
 * first request; a request past `max` gets 429 `rate_limited` with Retry-After and the budget headers. Counted in
 * this process, or in Redis when it is configured (one script call, so all nodes share one budget; the keys sit
 * in the plugin's namespace, `<namespace><key>`). When Redis fails, requests go through (logged): a licence check
 * must not stop every client start because the limiter's store is down.
 */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.ts';
import { rateLimited } from '../errors.ts';

export interface RouteBudgetOptions {
  /** Requests per window and key. */
  max: number;
  windowMs: number;
  /** Shared counters; in this process without. */
  redis?: Redis | undefined;
  /** Redis key prefix. */
  namespace: string;
  /** Keys counted in this process at most (the oldest window is forgotten first). */
  maxKeys?: number;
  logger: Logger;
  now?: () => number;
}

/** `count` requests in the key's window so far (this one included); the window ends in `resetMs`. */
type Taken = (count: number, resetMs: number) => void;

const SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}`;

type BudgetRedis = Redis & {
  canopyRouteBudget(
    key: string,
    windowMs: number,
    cb: (err: Error | null, res?: [number, number]) => void,
  ): void;
};

export class RouteBudget {
  private readonly local = new Map<string, { count: number; resetAt: number }>();
  private readonly redis: BudgetRedis | undefined;
  private readonly now: () => number;
  private lastWarning = 0;

  constructor(private readonly options: RouteBudgetOptions) {
    this.now = options.now ?? Date.now;
    if (options.redis) {
      const redis = options.redis as BudgetRedis;
      if (typeof redis.canopyRouteBudget !== 'function') {
        redis.defineCommand('canopyRouteBudget', { numberOfKeys: 1, lua: SCRIPT });
      }
      this.redis = redis;
    }
  }

  /** The onRequest hook that charges `keyOf(request)` and refuses past the budget. */
  hook(keyOf: (request: FastifyRequest) => string) {
    const { max } = this.options;
    return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
      this.take(keyOf(request), (count, resetMs) => {
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

  /** Charges one request to `key`; `taken` runs at once in process, after one round trip with Redis. */
  take(key: string, taken: Taken): void {
    if (this.redis) return this.takeShared(this.redis, key, taken);
    const now = this.now();
    const entry = this.local.get(key);
    if (entry && now < entry.resetAt) {
      entry.count++;
      return taken(entry.count, entry.resetAt - now);
    }
    // A new window goes to the back of the map, so the oldest windows are the first forgotten.
    this.local.delete(key);
    if (this.local.size >= (this.options.maxKeys ?? 100_000)) {
      const oldest = this.local.keys().next();
      if (!oldest.done) this.local.delete(oldest.value);
    }
    this.local.set(key, { count: 1, resetAt: now + this.options.windowMs });
    taken(1, this.options.windowMs);
  }

  private takeShared(redis: BudgetRedis, key: string, taken: Taken): void {
    redis.canopyRouteBudget(`${this.options.namespace}${key}`, this.options.windowMs, (err, res) => {
      if (err || !res) {
        const now = this.now();
        if (now - this.lastWarning > 60_000) {
          this.lastWarning = now;
          this.options.logger.warn({ err }, 'route budget: Redis failed; requests pass unlimited meanwhile');
        }
        return taken(0, this.options.windowMs);
      }
      taken(Number(res[0]), Number(res[1]));
    });
  }
}
