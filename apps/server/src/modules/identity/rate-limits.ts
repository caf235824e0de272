/**
 * Fixed-window counters for the anti-automation limits on sign-up, login, SRP and password reset. Counted in
 * Redis when it is configured (every node shares one budget), in memory otherwise. Keys never hold an email
 * or an IP in the clear beyond memory/Redis: callers pass the email's blind index.
 *
 * Per-account limits are keyed by account and client IP together, so an attacker elsewhere cannot use up a
 * victim's budget and lock them out; the per-IP limits bound one source's guessing across accounts.
 */
import type { Redis } from 'ioredis';
import type { Clock } from '../../platform/clock.ts';
import { rateLimited } from '../../platform/errors.ts';
import type { RateRule } from './settings.ts';

export interface RateLimiter {
  /** Counts one attempt under `key`; throws 429 `rate_limited` (with Retry-After) when over `rule.limit`. */
  hit(key: string, rule: RateRule): Promise<void>;
}

export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly clock: Clock) {}

  async hit(key: string, rule: RateRule): Promise<void> {
    const now = this.clock.now().getTime();
    if (this.windows.size > 100_000) this.sweep(now, rule.windowMs);
    let w = this.windows.get(key);
    if (!w || now - w.start >= rule.windowMs) {
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    if (w.count > rule.limit) throw rateLimited((w.start + rule.windowMs - now) / 1000);
  }

  private sweep(now: number, windowMs: number): void {
    for (const [k, w] of this.windows) if (now - w.start >= windowMs) this.windows.delete(k);
  }
}

export class RedisRateLimiter implements RateLimiter {
  constructor(private readonly redis: Redis) {}

  async hit(key: string, rule: RateRule): Promise<void> {
    const k = `canopy-identity-rl:${key}`;
    const [[, count], [, ttl]] = (await this.redis
      .multi()
      .incr(k)
      .pttl(k)
      .exec()) as [[unknown, number], [unknown, number]];
    if (ttl < 0) await this.redis.pexpire(k, rule.windowMs);
    if (count > rule.limit) throw rateLimited((ttl > 0 ? ttl : rule.windowMs) / 1000);
  }
}
