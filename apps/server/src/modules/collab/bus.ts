/**
 * The bell between nodes: after a node appends to a map's log it rings `{tenantId, mapId, headSeq}`; nodes with
 * a room for that map read what they lack from SQL. The bus carries no content, and losing a ring only delays
 * a room until its periodic check (rooms.ts). Over platform/pubsub (Redis between nodes), or in-process (tests).
 */
import type { PubSub, Unsubscribe } from '../../platform/pubsub/index.ts';

export interface Bell {
  tenantId: string;
  mapId: string;
  headSeq: number;
  /** The node that rang; it ignores its own rings. */
  node: string;
}

export interface CollabBus {
  publish(bell: Bell): void;
  subscribe(listener: (bell: Bell) => void): () => void;
  close(): Promise<void>;
}

const CHANNEL = 'collab:bell';

function parseBell(raw: string): Bell | undefined {
  try {
    const b = JSON.parse(raw) as Partial<Bell>;
    if (
      typeof b.tenantId === 'string' &&
      typeof b.mapId === 'string' &&
      typeof b.headSeq === 'number' &&
      typeof b.node === 'string'
    ) {
      return b as Bell;
    }
  } catch {
    // a foreign or damaged message: the periodic check covers whatever it was for
  }
  return undefined;
}

/** One process, any number of apps (nodes) in it: tests run two nodes on one bus. */
export class InProcessBus implements CollabBus {
  private readonly listeners = new Set<(bell: Bell) => void>();
  /** Tests set this to drop rings on purpose. */
  dropping = false;

  publish(bell: Bell): void {
    if (this.dropping) return;
    const raw = JSON.stringify(bell);
    queueMicrotask(() => {
      const parsed = parseBell(raw);
      if (parsed) for (const l of this.listeners) l(parsed);
    });
  }

  subscribe(listener: (bell: Bell) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}

/**
 * The bell over the platform's pub/sub port (platform/pubsub: Redis between nodes, in-process otherwise).
 * `subscribe` must be awaited through `ready()` before a ring published elsewhere is guaranteed to arrive.
 */
export class PubSubBus implements CollabBus {
  private readonly listeners = new Set<(bell: Bell) => void>();
  private readonly subscription: Promise<Unsubscribe>;
  /** Tests set this to drop rings on purpose (on the receiving side, as a lossy network would). */
  dropping = false;

  constructor(
    private readonly pubsub: PubSub,
    private readonly ownsPubSub: boolean,
  ) {
    this.subscription = pubsub.subscribe(CHANNEL, (raw) => {
      if (this.dropping) return;
      const bell = parseBell(raw);
      if (bell) for (const l of this.listeners) l(bell);
    });
  }

  ready(): Promise<unknown> {
    return this.subscription;
  }

  publish(bell: Bell): void {
    // Fire and forget: a lost ring is caught up from SQL by the periodic check.
    this.pubsub.publish(CHANNEL, JSON.stringify(bell)).catch(() => undefined);
  }

  subscribe(listener: (bell: Bell) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await (
      await this.subscription.catch(() => undefined)
    )?.();
    if (this.ownsPubSub) await this.pubsub.close();
  }
}
