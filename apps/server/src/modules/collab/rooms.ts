/**
 * The rooms of this node: loads a room on first join, drops it when the last member leaves, rings the other
 * nodes after commits and listens for their rings, checks SQL periodically for rings it missed (R21), relays
 * presence between the same map's rooms on different nodes (R17), and schedules compaction (one job per map, by
 * job key).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { JobQueue } from '../../platform/jobs/queue.ts';
import { canWrite, type MapContentStore } from '../maps/index.ts';
import type { CollabBus } from './bus.ts';
import { NodeLiveness } from './liveness.ts';
import { MapMirrors, type MirrorThreadEnd } from './mirrors.ts';
import { Room, type RoomObserver } from './room.ts';
import type { WriteBackHook } from './write-back.ts';

export const COMPACT_JOB = 'collab.compact';

export interface RoomsOptions {
  /** Log entries after which a map is compacted. */
  compactAfter: number;
  /** How often a room compares its seq with SQL's head, in case a ring was lost. */
  checkIntervalMs: number;
  /** A member's presence expires when not refreshed for this long (R19). */
  presenceTimeoutMs?: number;
  /** How often this node says it is alive (default 10 s), and after how long silent another is dead (30 s). */
  aliveIntervalMs?: number;
  nodeTimeoutMs?: number;
  /** Told of each room's accepted and refused updates and commit times (the app's metrics). */
  observer?: RoomObserver;
  /** Told how many other nodes were just taken for dead (the app's metrics). */
  nodesLost?: (count: number) => void;
  /** Told when the mirror thread ends before the rooms close, and why (the app's metrics). */
  mirrorThreadEnded?: (reason: MirrorThreadEnd) => void;
}

const key = (tenantId: string, mapId: string) => `${tenantId}/${mapId}`;

class MapMissing extends Error {
  override readonly name = 'MapMissing';
}

export class Rooms {
  private readonly rooms = new Map<string, Promise<Room>>();
  readonly node = `node-${randomUUID()}`;
  private readonly unsubscribe: () => void;
  private readonly unsubscribePresence: () => void;
  private readonly unsubscribeReconnected: () => void;
  private readonly unsubscribeAlive: () => void;
  private readonly timer: NodeJS.Timeout;
  private readonly aliveTimer: NodeJS.Timeout;
  /** The other nodes that say they are alive (R17). */
  private readonly liveness: NodeLiveness;
  private closing = false;
  private checking: Promise<void> | undefined;
  /** The rooms' mirrors, on a thread of their own (R22). */
  private readonly mirrors: MapMirrors;

  constructor(
    private readonly content: MapContentStore,
    private readonly bus: CollabBus,
    private readonly jobs: JobQueue,
    private readonly logger: Logger,
    private readonly options: RoomsOptions,
    private readonly writeBack: WriteBackHook | undefined,
  ) {
    this.mirrors = new MapMirrors(logger, undefined, options.mirrorThreadEnded);
    this.liveness = new NodeLiveness(this.node, options.nodeTimeoutMs ?? 30_000);
    this.unsubscribe = bus.subscribe((bell) => {
      this.liveness.hear(bell.node, performance.now());
      if (bell.node === this.node) return;
      void this.existing(bell.tenantId, bell.mapId).then((room) => {
        if (room && bell.headSeq > room.seq) room.catchUp();
      });
    });
    this.unsubscribePresence = bus.subscribePresence((relay) => {
      this.liveness.hear(relay.node, performance.now());
      if (relay.node === this.node) return;
      void this.existing(relay.tenantId, relay.mapId).then((room) => {
        if (!room || room.isClosed) return;
        if (relay.kind === 'state') room.presence.applyRemote(relay.update, relay.node);
        else if (relay.kind === 'answer') room.presence.applyAnswer(relay.node, relay.answer);
        else this.answerPresence(room);
      });
    });
    this.unsubscribeReconnected = bus.onReconnected(() => this.recover());
    this.unsubscribeAlive = bus.subscribeAlive((node) => this.liveness.hear(node, performance.now(), true));
    this.timer = setInterval(() => void this.check(), options.checkIntervalMs);
    this.timer.unref();
    this.aliveTimer = setInterval(() => this.beat(), options.aliveIntervalMs ?? 10_000);
    this.aliveTimer.unref();
    bus.publishAlive(this.node);
  }

  /** Says this node is alive, and forgets the members' presence of nodes silent for too long (liveness.ts). */
  private beat(): void {
    this.bus.publishAlive(this.node);
    const dead = this.liveness.dead(performance.now());
    if (dead.length === 0) return;
    this.logger.warn({ nodes: dead }, "collab: nodes silent on the bus; their members' presence is dropped");
    this.options.nodesLost?.(dead.length);
    void this.all().then((rooms) => {
      for (const room of rooms) for (const node of dead) room.presence.forgetNode(node);
    });
  }

  /**
   * The bus lost messages (its connection to Redis dropped and is back): every room behind the log reads what
   * it lacks (a check now), asks the other nodes for their members' presence and sends its own (R17, R21),
   * instead of waiting for the periodic check and for each member's next refresh (20 s). The answers carry
   * deletions lost meanwhile too: a room deletes the keys it holds from a node whose answer lacks them.
   */
  private recover(): void {
    this.logger.info({ rooms: this.rooms.size }, 'collab: the bus reconnected; rooms catch up');
    void this.checkNow();
    for (const pending of this.rooms.values()) {
      void pending.then(
        (room) => {
          if (room.isClosed) return;
          const { tenantId, mapId } = room;
          this.bus.publishPresence({ tenantId, mapId, node: this.node, kind: 'ask' });
          this.answerPresence(room);
        },
        () => undefined,
      );
    }
  }

  /** The room for a map, loaded from SQL if this node has none; undefined when the map does not exist. */
  async open(tenantId: string, mapId: string): Promise<Room | undefined> {
    const k = key(tenantId, mapId);
    let pending = this.rooms.get(k);
    if (!pending) {
      pending = this.load(tenantId, mapId);
      this.rooms.set(k, pending);
      pending.catch(() => this.rooms.delete(k));
    }
    const room = await pending.catch((err: unknown) => {
      if (err instanceof MapMissing) return undefined;
      throw err; // storage or key failure: the gateway logs it and closes with 1011
    });
    if (!room || room.isClosed) {
      if (this.rooms.get(k) === pending) this.rooms.delete(k);
      return room && !room.isClosed ? room : undefined;
    }
    return room;
  }

  private async load(tenantId: string, mapId: string): Promise<Room> {
    const loaded = await this.content.loadReplica(tenantId, mapId);
    if (!loaded) throw new MapMissing();
    // The same map's rooms on other nodes send the presence states they hold (R17).
    this.bus.publishPresence({ tenantId, mapId, node: this.node, kind: 'ask' });
    return new Room(
      tenantId,
      mapId,
      loaded,
      this.content,
      {
        committed: (room, headSeq) => {
          this.bus.publish({ tenantId, mapId, headSeq, node: this.node });
          if (room.logGrowth >= this.options.compactAfter) {
            room.logGrowth = 0;
            void this.jobs
              .enqueue(COMPACT_JOB, { tenantId, mapId }, { key: `${COMPACT_JOB}:${tenantId}/${mapId}` })
              .catch((err: unknown) =>
                this.logger.warn({ err, mapId }, 'collab: could not schedule compaction'),
              );
          }
        },
        gone: (room) => {
          const k = key(room.tenantId, room.mapId);
          void this.rooms.get(k)?.then((r) => r === room && this.rooms.delete(k));
        },
        presence: (room, update) => this.relayPresence(room, update),
        ...(this.options.observer ? { observer: this.options.observer } : {}),
      },
      this.logger,
      this.options.presenceTimeoutMs,
      this.mirrors,
    );
  }

  private relayPresence(room: Room, update: Uint8Array): void {
    this.bus.publishPresence({
      tenantId: room.tenantId,
      mapId: room.mapId,
      node: this.node,
      kind: 'state',
      update,
    });
  }

  /** This node's members' presence, for the same map's rooms on the other nodes (an ask, or a recovery). */
  private answerPresence(room: Room): void {
    const { tenantId, mapId } = room;
    this.bus.publishPresence({
      tenantId,
      mapId,
      node: this.node,
      kind: 'answer',
      answer: room.presence.answer(),
    });
  }

  /** Rooms open (or opening) on this node. */
  /** The size of Loro's memory on the mirror thread (`MapMirrors.loroHeapSize`). */
  get mirrorLoroHeapSize(): number {
    return this.mirrors.loroHeapSize;
  }

  get count(): number {
    return this.rooms.size;
  }

  async existing(tenantId: string, mapId: string): Promise<Room | undefined> {
    const pending = this.rooms.get(key(tenantId, mapId));
    return pending?.catch(() => undefined);
  }

  /** A member left: when it was the last writer here, write back; when it was the last member, drop the room. */
  async left(room: Room, wasWriter: boolean): Promise<void> {
    const writersLeft = [...room.members].some((m) => canWrite(m.role));
    if (wasWriter && !writersLeft && this.writeBack) await this.save(room, 'last-editor-left');
    if (room.members.size === 0 && !this.closing) {
      await room.flush();
      if (room.members.size > 0) return;
      const k = key(room.tenantId, room.mapId);
      const current = await this.rooms.get(k)?.catch(() => undefined);
      if (current === room) {
        this.rooms.delete(k);
        room.shutDown(1000, 'room closed');
      }
    }
  }

  /** Calls the write-back hook with a consistent snapshot of the room (all of it durable). */
  async save(room: Room, reason: 'saved' | 'last-editor-left'): Promise<void> {
    if (!this.writeBack) return;
    await room.flush();
    const map = room.replica.toMindMap();
    let event;
    try {
      event = {
        tenantId: room.tenantId,
        mapId: room.mapId,
        reason,
        snapshot: map.exportSnapshot(),
        document: map.toJSON(),
        seq: room.seq,
      };
    } finally {
      map.free();
    }
    try {
      await this.writeBack(event);
    } catch (err) {
      this.logger.error({ err, mapId: room.mapId, reason }, 'collab: write-back failed');
    }
  }

  /** Map content changed outside the rooms (restore): catch up now. */
  poke(tenantId: string, mapId: string): void {
    void this.existing(tenantId, mapId).then((room) => room?.catchUp());
    this.bus.publish({ tenantId, mapId, headSeq: Number.MAX_SAFE_INTEGER, node: this.node });
  }

  /** The periodic check; one at a time (a slow database must not pile them up). */
  private check(): Promise<void> {
    this.checking ??= this.checkAll().finally(() => (this.checking = undefined));
    return this.checking;
  }

  /** A check that starts now: after the one running, whose reads may predate what it is called for. */
  async checkNow(): Promise<void> {
    await this.checking;
    await this.check();
  }

  /**
   * Every room whose map's log has grown past what it holds (a ring was lost) reads what it lacks (R21). The
   * heads of all open rooms' maps are read together, 500 maps a statement whatever their tenants, and only
   * rooms behind read their log: a transaction per room cost ~0.25 ms of CPU each, so a node with 10,000 idle
   * rooms would have spent more than a core on it (and one per tenant, as many per check as tenants with
   * rooms open). A map that is gone has no head: its room's catch-up finds that out and closes it.
   */
  private async checkAll(): Promise<void> {
    const rooms = (await this.all()).filter((room) => !room.isClosed);
    if (rooms.length === 0) return;
    const heads = await this.content.heads(rooms).catch((err: unknown) => {
      this.logger.warn({ err }, "collab: could not read the maps' heads; next check later");
      return undefined;
    });
    if (!heads) return;
    for (const room of rooms) {
      const head = heads.get(room.tenantId)?.get(room.mapId);
      if (head === undefined || head > room.seq) room.catchUp();
    }
  }

  async all(): Promise<Room[]> {
    const rooms = await Promise.all([...this.rooms.values()].map((p) => p.catch(() => undefined)));
    return rooms.filter((r): r is Room => r !== undefined);
  }

  /** Shutdown: commit what is queued, then close every socket with 1001 (clients reconnect elsewhere). */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.timer);
    clearInterval(this.aliveTimer);
    this.unsubscribeAlive();
    this.unsubscribe();
    this.unsubscribePresence();
    this.unsubscribeReconnected();
    for (const room of await this.all()) {
      await room.flush().catch(() => undefined);
      room.shutDown(1001, 'server shutting down');
    }
    this.rooms.clear();
    await this.mirrors.close();
  }
}
