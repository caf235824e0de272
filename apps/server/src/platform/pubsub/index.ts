/**
 * The pub/sub port: fan-out between the nodes of a deployment (co-editing bells, cache busting). In-process
 * when there is one node, Redis when `CANOPY_REDIS_URL` is set. Delivery is at most once and only to live
 * subscribers: anything that must not be lost lives in SQL, and a message only says "go and look".
 */
import type { Logger } from 'pino';
import { redisDriver } from '../drivers.ts';

export type MessageHandler = (message: string, channel: string) => void | Promise<void>;
export type Unsubscribe = () => Promise<void>;

export interface PubSub {
  readonly kind: 'memory' | 'redis';
  publish(channel: string, message: string): Promise<void>;
  /** Resolves once the subscription is live (a message published after this is delivered). */
  subscribe(channel: string, handler: MessageHandler): Promise<Unsubscribe>;
  /**
   * `listener` runs each time a connection to the broker was lost and is back: the subscriptions are live again
   * (whatever others published meanwhile is gone), or this node's publishing works again (whatever it published
   * meanwhile may not have reached the others). A subscriber that cares looks again where the truth is (SQL),
   * and says again what others may have missed. In-process pub/sub loses no connection and never calls it.
   * Returns a function that removes the listener.
   */
  onReconnected(listener: () => void): () => void;
  close(): Promise<void>;
}

const CHANNEL = /^[A-Za-z0-9_.:/-]{1,200}$/;
function checkChannel(channel: string): void {
  if (!CHANNEL.test(channel))
    throw new Error(`invalid pub/sub channel name: ${JSON.stringify(channel.slice(0, 80))}`);
}

/** Local handlers per channel; a handler that throws is logged and does not stop the others. */
class HandlerTable {
  private readonly byChannel = new Map<string, Set<MessageHandler>>();
  constructor(private readonly logger: Logger | undefined) {}

  add(channel: string, handler: MessageHandler): boolean {
    let set = this.byChannel.get(channel);
    const first = !set;
    if (!set) this.byChannel.set(channel, (set = new Set()));
    set.add(handler);
    return first;
  }

  /** Returns true when the channel has no handler left. */
  remove(channel: string, handler: MessageHandler): boolean {
    const set = this.byChannel.get(channel);
    if (!set) return false;
    set.delete(handler);
    if (set.size > 0) return false;
    this.byChannel.delete(channel);
    return true;
  }

  deliver(channel: string, message: string): void {
    for (const handler of this.byChannel.get(channel) ?? []) {
      try {
        const r = handler(message, channel);
        if (r) r.catch((err: unknown) => this.logger?.error({ err, channel }, 'pub/sub handler failed'));
      } catch (err) {
        this.logger?.error({ err, channel }, 'pub/sub handler failed');
      }
    }
  }

  channels(): string[] {
    return [...this.byChannel.keys()];
  }

  clear(): void {
    this.byChannel.clear();
  }
}

/** Connects in-process "nodes": the default hub is the process, tests make their own. */
export class InProcessHub {
  readonly members = new Set<HandlerTable>();
}
const processHub = new InProcessHub();

export function createInProcessPubSub(options: { hub?: InProcessHub; logger?: Logger } = {}): PubSub {
  const hub = options.hub ?? processHub;
  const table = new HandlerTable(options.logger);
  hub.members.add(table);
  let closed = false;
  return {
    kind: 'memory',
    async publish(channel, message) {
      checkChannel(channel);
      if (closed) throw new Error('pub/sub is closed');
      // Delivered asynchronously, in publish order, as over a network.
      const members = [...hub.members];
      queueMicrotask(() => {
        for (const m of members) m.deliver(channel, message);
      });
    },
    async subscribe(channel, handler) {
      checkChannel(channel);
      if (closed) throw new Error('pub/sub is closed');
      table.add(channel, handler);
      return async () => void table.remove(channel, handler);
    },
    onReconnected: () => () => undefined,
    async close() {
      closed = true;
      table.clear();
      hub.members.delete(table);
    },
  };
}

export interface RedisPubSubOptions {
  url: string;
  /** Prepended to every channel, so deployments (or test runs) sharing a Redis do not hear each other. */
  prefix?: string;
  /** Names the two connections in Redis's `CLIENT LIST` (`<name>-pub`, `<name>-sub`); default `canopy`. */
  connectionName?: string;
  logger?: Logger;
}

export async function createRedisPubSub(options: RedisPubSubOptions): Promise<PubSub> {
  const prefix = options.prefix ?? 'canopy:';
  const name = options.connectionName ?? 'canopy';
  const connection = (role: string) => ({
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    connectionName: `${name}-${role}`,
  });
  const { Redis } = redisDriver();
  const publisher = new Redis(options.url, connection('pub'));
  const subscriber = new Redis(options.url, connection('sub'));
  await Promise.all([publisher.connect(), subscriber.connect()]);
  const table = new HandlerTable(options.logger);
  const reconnected = new Set<() => void>();
  const tell = (what: string, fields: Record<string, unknown> = {}) => {
    options.logger?.info(fields, what);
    for (const listener of reconnected) {
      try {
        listener();
      } catch (err) {
        options.logger?.error({ err }, 'pub/sub: a reconnection listener failed');
      }
    }
  };
  // 'ready' again means the subscriber reconnected: ioredis sends the SUBSCRIBEs again; once ours (the same
  // channels: Redis takes a repeat as a no-op) is answered after them, the subscriptions are live again.
  subscriber.on('ready', () => {
    const channels = table.channels().map((c) => prefix + c);
    (channels.length > 0 ? subscriber.subscribe(...channels) : Promise.resolve()).then(
      () => tell('redis subscriber reconnected; messages meanwhile lost', { channels: channels.length }),
      (err: unknown) => options.logger?.warn({ err }, 'redis subscriber: could not subscribe again'),
    );
  });
  // 'ready' again on the publisher: what this node published while it was down may not have reached anyone
  // (the others may even have taken the node for gone), though its subscriber heard everything.
  publisher.on('ready', () => tell('redis publisher reconnected; messages published meanwhile may be lost'));
  subscriber.on('message', (full: string, message: string) => {
    if (full.startsWith(prefix)) table.deliver(full.slice(prefix.length), message);
  });
  subscriber.on('error', (err) => options.logger?.warn({ err }, 'redis subscriber error (reconnecting)'));
  publisher.on('error', (err) => options.logger?.warn({ err }, 'redis publisher error (reconnecting)'));
  return {
    kind: 'redis',
    async publish(channel, message) {
      checkChannel(channel);
      await publisher.publish(prefix + channel, message);
    },
    async subscribe(channel, handler) {
      checkChannel(channel);
      if (table.add(channel, handler)) await subscriber.subscribe(prefix + channel);
      return async () => {
        if (table.remove(channel, handler)) await subscriber.unsubscribe(prefix + channel);
      };
    },
    onReconnected(listener) {
      reconnected.add(listener);
      return () => void reconnected.delete(listener);
    },
    async close() {
      reconnected.clear();
      table.clear();
      await Promise.allSettled([subscriber.quit(), publisher.quit()]);
    },
  };
}

/** Redis when a URL is configured, else in-process. */
export async function createPubSub(
  options: { redisUrl?: string; prefix?: string },
  deps: { logger: Logger },
): Promise<PubSub> {
  return options.redisUrl
    ? createRedisPubSub({
        url: options.redisUrl,
        logger: deps.logger,
        ...(options.prefix ? { prefix: options.prefix } : {}),
      })
    : createInProcessPubSub({ logger: deps.logger });
}
