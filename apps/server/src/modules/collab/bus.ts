/**
 * What the nodes serving the same map tell each other, over platform/pubsub (Redis between nodes) or in-process
 * (tests):
 *
 * - The bell: after a node appends to a map's log it rings `{tenantId, mapId, headSeq}`; nodes with a room for
 *   that map read what they lack from SQL. It carries no content, and losing a ring only delays a room until its
 *   periodic check (rooms.ts).
 * - Presence (R17-R19): the presence states written by a node's members, as the room's ephemeral-store updates,
 *   so that members on every node see each other; and a node that opens a room asks the others, which answer
 *   with their members' states and keys. Losing one leaves a state out until its member's next refresh (the
 *   SDK sends one every 20 s).
 * - Alive: each node says every few seconds that it is; the others take a node silent for long for dead and
 *   drop its members' presence (liveness.ts).
 * - Reconnected: a connection to Redis was lost and is back, so rings and states were lost meanwhile (the
 *   listening connection: others' messages; the publishing one: this node's, and the others may have taken it
 *   for dead); each room then reads the log and trades presence again at once (rooms.ts) instead of waiting for
 *   its periodic check and its members' refreshes; the answers also carry the deletions lost meanwhile.
 */
import type { PubSub, Unsubscribe } from '../../platform/pubsub/index.ts';
import type { PresenceAnswer } from './presence.ts';

export interface Bell {
  tenantId: string;
  mapId: string;
  headSeq: number;
  /** The node that rang; it ignores its own rings. */
  node: string;
}

/**
 * Presence between nodes: `state` carries the room store's encoding of a key the sender's member wrote (or
 * left); `ask` requests every node's `answer`: its members' states and keys (presence.ts).
 */
export type PresenceRelay = {
  tenantId: string;
  mapId: string;
  /** The node that sent it; it ignores its own. */
  node: string;
} & ({ kind: 'state'; update: Uint8Array } | { kind: 'ask' } | { kind: 'answer'; answer: PresenceAnswer });

export interface CollabBus {
  publish(bell: Bell): void;
  subscribe(listener: (bell: Bell) => void): () => void;
  publishPresence(relay: PresenceRelay): void;
  subscribePresence(listener: (relay: PresenceRelay) => void): () => void;
  /** A node says it is alive (every few seconds: liveness.ts). */
  publishAlive(node: string): void;
  subscribeAlive(listener: (node: string) => void): () => void;
  /** `listener` runs when messages may have been lost (the broker's connection dropped and is back). */
  onReconnected(listener: () => void): () => void;
  close(): Promise<void>;
}

const CHANNEL = 'collab:bell';
const PRESENCE_CHANNEL = 'collab:presence';
const ALIVE_CHANNEL = 'collab:alive';

function parseAlive(raw: string): string | undefined {
  try {
    const { node } = JSON.parse(raw) as { node?: unknown };
    return typeof node === 'string' ? node : undefined;
  } catch {
    return undefined; // a foreign or damaged message: the node says it again in a few seconds
  }
}

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

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));
const strings = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((v) => typeof v === 'string');

function encodeRelay(relay: PresenceRelay): string {
  if (relay.kind === 'state') return JSON.stringify({ ...relay, update: base64(relay.update) });
  if (relay.kind === 'answer') {
    const { updates, own } = relay.answer;
    return JSON.stringify({ ...relay, answer: { updates: updates.map(base64), own } });
  }
  return JSON.stringify(relay);
}

function parseRelay(raw: string): PresenceRelay | undefined {
  try {
    const r = JSON.parse(raw) as Record<string, unknown>;
    const { tenantId, mapId, node } = r;
    if (typeof tenantId !== 'string' || typeof mapId !== 'string' || typeof node !== 'string') return;
    const to = { tenantId, mapId, node };
    if (r.kind === 'ask') return { ...to, kind: 'ask' };
    if (r.kind === 'state' && typeof r.update === 'string')
      return { ...to, kind: 'state', update: bytes(r.update) };
    const answer = r.answer as Record<string, unknown> | undefined;
    if (r.kind === 'answer' && answer && strings(answer.updates) && strings(answer.own))
      return { ...to, kind: 'answer', answer: { updates: answer.updates.map(bytes), own: answer.own } };
  } catch {
    // a foreign or damaged message: the member's next refresh carries the state again
  }
  return undefined;
}

/** Listeners of both channels, fed parsed messages. */
class Listeners {
  readonly bells = new Set<(bell: Bell) => void>();
  readonly relays = new Set<(relay: PresenceRelay) => void>();
  readonly reconnected = new Set<() => void>();
  readonly alive = new Set<(node: string) => void>();

  aliveFrom(raw: string): void {
    const node = parseAlive(raw);
    if (node) for (const l of this.alive) l(node);
  }

  bell(raw: string): void {
    const bell = parseBell(raw);
    if (bell) for (const l of this.bells) l(bell);
  }

  relay(raw: string): void {
    const relay = parseRelay(raw);
    if (relay) for (const l of this.relays) l(relay);
  }

  clear(): void {
    this.bells.clear();
    this.relays.clear();
    this.reconnected.clear();
    this.alive.clear();
  }
}

const adder =
  <T>(set: Set<T>) =>
  (listener: T) => {
    set.add(listener);
    return () => void set.delete(listener);
  };

/** One process, any number of apps (nodes) in it: tests run two nodes on one bus. */
export class InProcessBus implements CollabBus {
  private readonly listeners = new Listeners();
  /** Tests set this to drop messages on purpose. */
  dropping = false;
  readonly subscribe = adder(this.listeners.bells);
  readonly subscribePresence = adder(this.listeners.relays);
  readonly onReconnected = adder(this.listeners.reconnected);
  readonly subscribeAlive = adder(this.listeners.alive);

  /** Tests: as if the connection had dropped and come back (messages meanwhile are what `dropping` dropped). */
  resubscribe(): void {
    for (const listener of this.listeners.reconnected) listener();
  }

  publish(bell: Bell): void {
    this.deliver(JSON.stringify(bell), (raw) => this.listeners.bell(raw));
  }

  publishPresence(relay: PresenceRelay): void {
    this.deliver(encodeRelay(relay), (raw) => this.listeners.relay(raw));
  }

  publishAlive(node: string): void {
    this.deliver(JSON.stringify({ node }), (raw) => this.listeners.aliveFrom(raw));
  }

  private deliver(raw: string, to: (raw: string) => void): void {
    if (this.dropping) return;
    queueMicrotask(() => to(raw));
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}

/**
 * The bus over the platform's pub/sub port (platform/pubsub: Redis between nodes, in-process otherwise).
 * `ready()` must be awaited before a message published elsewhere is guaranteed to arrive.
 */
export class PubSubBus implements CollabBus {
  private readonly listeners = new Listeners();
  private readonly subscriptions: Promise<Unsubscribe>[];
  /** Tests set this to drop messages on purpose (on the receiving side, as a lossy network would). */
  dropping = false;
  readonly subscribe = adder(this.listeners.bells);
  readonly subscribePresence = adder(this.listeners.relays);
  readonly subscribeAlive = adder(this.listeners.alive);

  constructor(
    private readonly pubsub: PubSub,
    private readonly ownsPubSub: boolean,
  ) {
    this.subscriptions = [
      pubsub.subscribe(CHANNEL, (raw) => {
        if (!this.dropping) this.listeners.bell(raw);
      }),
      pubsub.subscribe(PRESENCE_CHANNEL, (raw) => {
        if (!this.dropping) this.listeners.relay(raw);
      }),
      pubsub.subscribe(ALIVE_CHANNEL, (raw) => {
        if (!this.dropping) this.listeners.aliveFrom(raw);
      }),
    ];
  }

  ready(): Promise<unknown> {
    return Promise.all(this.subscriptions);
  }

  onReconnected(listener: () => void): () => void {
    return this.pubsub.onReconnected(listener);
  }

  publish(bell: Bell): void {
    // Fire and forget: a lost ring is caught up from SQL by the periodic check.
    this.pubsub.publish(CHANNEL, JSON.stringify(bell)).catch(() => undefined);
  }

  publishPresence(relay: PresenceRelay): void {
    // Fire and forget: a lost state comes again with its member's next refresh.
    this.pubsub.publish(PRESENCE_CHANNEL, encodeRelay(relay)).catch(() => undefined);
  }

  publishAlive(node: string): void {
    // Fire and forget: the node says it again in a few seconds.
    this.pubsub.publish(ALIVE_CHANNEL, JSON.stringify({ node })).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    for (const subscription of this.subscriptions) await (await subscription.catch(() => undefined))?.();
    if (this.ownsPubSub) await this.pubsub.close();
  }
}
