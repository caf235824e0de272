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
import type { RateRule } from './settings.ts';

export interface RateLimiter {
  /** Counts one attempt under `key`; throws 429 `rate_limited` (with Retry-After) when over `rule.limit`. */
  hit(key: string, rule: RateRule): Promise<void>;
  /** Remembers `key` for `ttlMs` (e.g. an IP the account has logged in from). */
  remember(key: string, ttlMs: number): Promise<void>;
  remembers(key: string): Promise<boolean>;
}

export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private readonly memory = new Map<string, number>();

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

  async remember(key: string, ttlMs: number): Promise<void> {
    const now = this.clock.now().getTime();
    if (this.memory.size > 100_000)
      for (const [k, until] of this.memory) if (until <= now) this.memory.delete(k);
    this.memory.set(key, now + ttlMs);
  }

  async remembers(key: string): Promise<boolean> {
    return (this.memory.get(key) ?? 0) > this.clock.now().getTime();
  }

  private sweep(now: number, windowMs: number): void {
    for (const [k, w] of this.windows) if (now - w.start >= windowMs) this.windows.delete(k);
  }
}

export class RedisRateLimiter implements RateLimiter {
  constructor(private readonly redis: Redis) {}

  async hit(key: string, rule: RateRule): Promise<void> {
    const k = `canopy-identity-rl:${key}`;
    const [[, count], [, ttl]] = (await this.redis.multi().incr(k).pttl(k).exec()) as [
      [unknown, number],
      [unknown, number],
    ];
    if (ttl < 0) await this.redis.pexpire(k, rule.windowMs);
    if (count > rule.limit) throw rateLimited((ttl > 0 ? ttl : rule.windowMs) / 1000);
  }

  async remember(key: string, ttlMs: number): Promise<void> {
    await this.redis.set(`canopy-identity-mem:${key}`, '1', 'PX', ttlMs);
  }

  async remembers(key: string): Promise<boolean> {
    return (await this.redis.exists(`canopy-identity-mem:${key}`)) === 1;
  }
}
