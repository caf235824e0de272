/**
 * What one node lets a co-editing socket do (docs/protocol/collab.md R30-R35): the limits, their defaults, and
 * the token bucket that paces a connection's updates and presence. The gateway enforces them.
 */
export interface CollabLimits {
  /** Largest frame accepted (bytes); bigger closes the socket with 1009 (R30). */
  maxMessageBytes: number;
  /** Sustained updates per second per connection, and the burst allowed above it (R31). */
  updatesPerSecond: number;
  updateBurst: number;
  /** Open sockets per account: on all nodes together with Redis, else on this node (R32; account-sockets.ts). */
  maxConnectionsPerAccount: number;
  /** Open sockets on this node, all accounts together; beyond it new ones are closed with 1013 (R35). */
  maxConnectionsPerNode: number;
  /** A member whose unsent bytes exceed this is dropped with 4408 (R33). */
  maxBufferedBytes: number;
  /** Largest presence update (bytes of the Loro ephemeral-store update carrying the member's state) (R34). */
  maxPresenceBytes: number;
  /** Sustained presence updates per second per connection, and the burst allowed above it (R34). */
  presencePerSecond: number;
  presenceBurst: number;
  /** A presence state not refreshed for this long expires, and the others are told (R19). */
  presenceTimeoutMs: number;
  /** Time to send `hello` after connecting. */
  helloTimeoutMs: number;
}

export const DEFAULT_LIMITS: CollabLimits = {
  maxMessageBytes: 1024 * 1024,
  updatesPerSecond: 50,
  updateBurst: 200,
  maxConnectionsPerAccount: 20,
  maxConnectionsPerNode: 10_000,
  maxBufferedBytes: 8 * 1024 * 1024,
  maxPresenceBytes: 4096,
  presencePerSecond: 20,
  presenceBurst: 40,
  presenceTimeoutMs: 90_000,
  helloTimeoutMs: 10_000,
};

/** `rate` tokens a second, up to `burst` saved: `take` says whether one was left. */
export class TokenBucket {
  private tokens: number;
  private last = Date.now();
  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }
  take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}
