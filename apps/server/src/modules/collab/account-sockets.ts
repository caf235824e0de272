/**
 * How many co-editing sockets an account holds (docs/protocol/collab.md R32), counted per node or, with Redis,
 * across every node of the deployment:
 *
 * - `NodeAccountSockets`: a count in memory (one node; and the fallback below).
 * - `RedisAccountSockets`: a lease per socket in a sorted set per account, scored by when it lapses (Redis's own
 *   clock: the nodes' clocks need not agree). Taking one drops the lapsed leases, counts, and adds, in one
 *   script; a node renews its leases every third of their lifetime and removes each when its socket closes. A
 *   node that dies leaves its leases to lapse (60 s), but each node also keeps a key saying it is alive (15 s,
 *   refreshed every third of that), and an account found at its limit first drops the leases of nodes whose key
 *   is gone: a crashed node's sockets stop counting after 15 s. While Redis does not answer, the node counts
 *   alone (as without Redis): a socket is never refused because Redis is down.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** One socket's place in its account's count; released when the socket closes. */
export interface SocketLease {
  release(): void;
}

export interface AccountSockets {
  /** A lease for one more socket of the account, or undefined when it holds `limit` already. */
  acquire(tenantId: string, accountId: string, limit: number): Promise<SocketLease | undefined>;
  close(): Promise<void>;
}

export class NodeAccountSockets implements AccountSockets {
  private readonly counts = new Map<string, number>();

  acquire(tenantId: string, accountId: string, limit: number): Promise<SocketLease | undefined> {
    return Promise.resolve(this.take(`${tenantId}/${accountId}`, limit));
  }

  /** Synchronous: the count is taken before anything else can run. */
  take(account: string, limit: number): SocketLease | undefined {
    const count = this.counts.get(account) ?? 0;
    if (count >= limit) return undefined;
    this.counts.set(account, count + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const n = (this.counts.get(account) ?? 1) - 1;
        if (n <= 0) this.counts.delete(account);
        else this.counts.set(account, n);
      },
    };
  }

  async close(): Promise<void> {
    this.counts.clear();
  }
}

/** KEYS[1] the account's set; ARGV limit, lease ms, member. 1 when taken, 0 when the account is at its limit. */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

/** KEYS[1] the account's set; ARGV lease ms, then the members this node still holds there. */
const RENEW = `
local t = redis.call('TIME')
local until_ = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], until_, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`;

export interface RedisAccountSocketsOptions {
  /** Key prefix (tests use their own). Default `canopy:collab:sockets:`. */
  prefix?: string;
  /** How long a lease lasts unless renewed (default 60 s); renewed every third of it. */
  leaseMs?: number;
  /** How long the node's key saying it is alive lasts unless refreshed (default 15 s); refreshed every third. */
  aliveMs?: number;
}

/**
 * The mark in a lease's member of a node that keeps a key saying it is alive (`<node>:a:<n>`). Leases without it
 * (nodes of an earlier version, during a rolling upgrade) are left to lapse, never dropped as a dead node's.
 */
const ALIVE_MARK = ':a:';

export class RedisAccountSockets implements AccountSockets {
  private readonly prefix: string;
  private readonly leaseMs: number;
  private readonly node = randomUUID();
  private next = 0;
  /** This node's leases in Redis: the account's key -> its members. */
  private readonly held = new Map<string, Set<string>>();
  /** Every socket is counted here too: the limit per node holds whatever Redis does (and alone when it fails). */
  private readonly local = new NodeAccountSockets();
  private readonly renewer: NodeJS.Timeout;
  private readonly aliveMs: number;
  private readonly heartbeat: NodeJS.Timeout;
  private failing = false;

  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    options: RedisAccountSocketsOptions = {},
  ) {
    this.prefix = options.prefix ?? 'canopy:collab:sockets:';
    this.leaseMs = options.leaseMs ?? 60_000;
    this.aliveMs = options.aliveMs ?? 15_000;
    this.renewer = setInterval(() => void this.renew(), Math.max(1, Math.floor(this.leaseMs / 3)));
    this.renewer.unref();
    void this.beat();
    this.heartbeat = setInterval(() => void this.beat(), Math.max(1, Math.floor(this.aliveMs / 3)));
    this.heartbeat.unref();
  }

  /** The key that says a node is alive. */
  private aliveKey(node: string): string {
    return `${this.prefix}alive:${node}`;
  }

  /** Says this node is alive for `aliveMs` more (a failure is the renewal's to report: the same Redis). */
  private async beat(): Promise<void> {
    await this.redis.set(this.aliveKey(this.node), '1', 'PX', this.aliveMs).catch(() => undefined);
  }

  async acquire(tenantId: string, accountId: string, limit: number): Promise<SocketLease | undefined> {
    const local = this.local.take(`${tenantId}/${accountId}`, limit);
    if (!local) return undefined;
    const key = `${this.prefix}${tenantId}/${accountId}`;
    const member = `${this.node}${ALIVE_MARK}${++this.next}`;
    let taken: unknown;
    try {
      taken = await this.redis.eval(ACQUIRE, 1, key, limit, this.leaseMs, member);
      // At the limit: leases of nodes that are gone stop counting, and the count is taken again.
      if (taken !== 1 && (await this.dropDeadNodes(key)))
        taken = await this.redis.eval(ACQUIRE, 1, key, limit, this.leaseMs, member);
      this.recovered();
    } catch (err) {
      this.failed(err);
      return local;
    }
    if (taken !== 1) {
      local.release();
      return undefined;
    }
    let members = this.held.get(key);
    if (!members) this.held.set(key, (members = new Set()));
    members.add(member);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        local.release();
        const set = this.held.get(key);
        set?.delete(member);
        if (set?.size === 0) this.held.delete(key);
        // A removal that fails leaves the lease to lapse.
        this.redis.zrem(key, member).catch(() => undefined);
      },
    };
  }

  /**
   * Removes from an account's set the leases of other nodes whose key saying they are alive is gone (a crashed
   * node's); true when it removed any. Only at an account's limit, so a count costs nothing more below it.
   */
  private async dropDeadNodes(key: string): Promise<boolean> {
    const members = await this.redis.zrange(key, 0, -1);
    const byNode = new Map<string, string[]>();
    for (const m of members) {
      const at = m.indexOf(ALIVE_MARK);
      if (at <= 0) continue;
      const node = m.slice(0, at);
      if (node === this.node) continue;
      const leases = byNode.get(node);
      if (leases) leases.push(m);
      else byNode.set(node, [m]);
    }
    if (byNode.size === 0) return false;
    const nodes = [...byNode.keys()];
    const asked = this.redis.pipeline();
    for (const n of nodes) asked.exists(this.aliveKey(n));
    const alive = (await asked.exec()) ?? [];
    const failure = alive.find(([e]) => e)?.[0];
    if (failure) throw failure;
    const dead = nodes.filter((_n, i) => alive[i]?.[1] === 0).flatMap((n) => byNode.get(n)!);
    if (dead.length === 0) return false;
    await this.redis.zrem(key, ...dead);
    return true;
  }

  /** Pushes back the lapse of every lease this node holds (one script per account). */
  async renew(): Promise<void> {
    if (this.held.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [key, members] of this.held) pipeline.eval(RENEW, 1, key, this.leaseMs, ...members);
    try {
      const results = (await pipeline.exec()) ?? [];
      const err = results.find(([e]) => e)?.[0];
      if (err) throw err;
      this.recovered();
    } catch (err) {
      this.failed(err);
    }
  }

  private failed(err: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.logger.warn(
      { err },
      'collab: Redis does not answer; sockets per account are counted on this node alone until it does (R32)',
    );
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.logger.info('collab: Redis answers again; sockets per account are counted across the nodes (R32)');
  }

  async close(): Promise<void> {
    clearInterval(this.renewer);
    clearInterval(this.heartbeat);
    await this.redis.del(this.aliveKey(this.node)).catch(() => undefined);
    const removals = [...this.held].map(([key, members]) =>
      this.redis.zrem(key, ...members).catch(() => undefined),
    );
    this.held.clear();
    await Promise.all(removals);
    await this.local.close();
  }
}
