/**
 * Fixed-window counters for the anti-automation limits on sign-up, login, SRP and password reset. Counted in
 * Redis when it is configured (every node shares one budget), in memory otherwise. Keys never hold an email
 * or an IP in the clear beyond memory/Redis: callers pass the email's blind index.
 *
 * Login has three limits: per IP (one source guessing across accounts), per account and IP (one source guessing
 * one account), and per account across all IPs (guessing spread over many sources). The last one does not apply
 * to an IP the account has logged in from in the last 30 days (`remember`), so an attacker who exhausts it
 * cannot lock the owner out from their usual places; only a first login from a new place can be delayed.
 */
import type { Redis } from 'ioredis';
import type { Clock } from '../../platform/clock.ts';
import { rateLimited } from '../../platform/errors.ts';
import { FixedWindows } from '../../platform/http/route-budget.ts';
import type { RateRule } from './settings.ts';

export interface RateLimiter {
  /** Counts one attempt under `key`; throws 429 `rate_limited` (with Retry-After) when over `rule.limit`. */
  hit(key: string, rule: RateRule): Promise<void>;
  /** Remembers `key` for `ttlMs` (e.g. an IP the account has logged in from). */
  remember(key: string, ttlMs: number): Promise<void>;
  remembers(key: string): Promise<boolean>;
}

/** Counts one attempt on `windows`; rejects with 429 `rate_limited` (with Retry-After) past `rule.limit`. */
function hitOn(windows: FixedWindows, key: string, rule: RateRule): Promise<void> {
  return new Promise((resolve, reject) =>
    windows.count(key, rule.windowMs, (err, count, resetMs) => {
      if (err) reject(err);
      else if (count > rule.limit) reject(rateLimited(resetMs / 1000));
      else resolve();
    }),
  );
}

export class MemoryRateLimiter implements RateLimiter {
  private readonly windows: FixedWindows;
  private readonly memory = new Map<string, number>();

  constructor(private readonly clock: Clock) {
    this.windows = new FixedWindows({ namespace: '', now: () => clock.now().getTime() });
  }

  hit(key: string, rule: RateRule): Promise<void> {
    return hitOn(this.windows, key, rule);
  }

  async remember(key: string, ttlMs: number): Promise<void> {
    const now = this.clock.now().getTime();
    if (this.memory.size > 100_000)
      for (const [k, until] of this.memory) if (until <= now) this.memory.delete(k);
    this.memory.set(key, now + ttlMs);
  }

  async remembers(key: string): Promise<boolean> {
    return (this.memory.get(key) ?? 0) > this.clock.now().getTime();
  }
}

export class RedisRateLimiter implements RateLimiter {
  private readonly windows: FixedWindows;

  constructor(private readonly redis: Redis) {
    this.windows = new FixedWindows({ redis, namespace: 'canopy-identity-rl:' });
  }

  /** A Redis failure rejects: these limits guard sign-in against guessing, so they fail closed. */
  hit(key: string, rule: RateRule): Promise<void> {
    return hitOn(this.windows, key, rule);
  }

  async remember(key: string, ttlMs: number): Promise<void> {
    await this.redis.set(`canopy-identity-mem:${key}`, '1', 'PX', ttlMs);
  }

  async remembers(key: string): Promise<boolean> {
    return (await this.redis.exists(`canopy-identity-mem:${key}`)) === 1;
  }
}
