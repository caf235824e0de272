/**
 * One map's room on this node: the server's replica of the map, the members connected here, and the commit
 * pipeline that stores an update before anyone hears of it.
 *
 * Invariants (docs/protocol/collab.md, rules R10-R16):
 * - An update is acknowledged only after its log row is committed and durable (R10); it is relayed to the
 *   room's editors once its transaction has checked its author's role (on SQLite inside the transaction), and
 *   to everyone else once it is durable (R11).
 * - Updates that arrive while a commit is in flight go into the next commit together (group commit, R12),
 *   in the order they build on each other (`arrivals.ts`).
 * - A welcome carries only durable state: it is computed, then sent once everything imported before it has
 *   been committed (R5).
 * - `seq` is the highest log seq this replica is known to contain with no gap below it (`log-position.ts`);
 *   anything appended elsewhere (another node, a restore) is read from SQL by `catchUp` (R20, R21).
 */
import type { Logger } from 'pino';
import type { ServerReplica } from '@canopy/model';
import { CloseCode, encodeServer } from '@canopy/sdk';
import { canWrite, type LoadedReplica, type MapContentStore, type MapRole } from '../maps/index.ts';
import { Arrivals, type Arrival } from './arrivals.ts';
import { RoomFold } from './room-fold.ts';
import { CatchUp } from './catch-up.ts';
import { DurableMark } from './durable-mark.ts';
import { commitFrames, fanOut, relay, type CommitFrames } from './fan-out.ts';
import { InCommitOrder } from './in-commit-order.ts';
import { LogPosition } from './log-position.ts';
import { MirrorLink, type MapMirrors } from './mirrors.ts';
import { RoomPresence } from './presence.ts';

export interface RoomMember {
  readonly session: number;
  readonly accountId: string;
  role: MapRole;
  send(frame: Uint8Array): void;
  /** Several frames, in order, in as few socket writes as possible. */
  sendAll(frames: readonly Uint8Array[]): void;
  close(code: number, reason: string): void;
}

interface PendingWrite {
  member: RoomMember;
  ref: number;
  data: Uint8Array;
  /** Position in the room's import order (`DurableMark.next`). */
  index: number;
}

export interface RoomHooks {
  /** After each commit: ring the other nodes, maybe schedule compaction. */
  committed(room: Room, headSeq: number, appended: number): void;
  /** The map is gone (deleted): the registry forgets the room. */
  gone(room: Room): void;
  /** Presence written by a member here: for the same map's rooms on the other nodes (R17). */
  presence(room: Room, update: Uint8Array): void;
  /** For the metrics. */
  observer?: RoomObserver;
}

/** What an operator sees of the rooms' work (`/metrics`). */
export interface RoomObserver {
  /** Updates accepted (once durable) or refused, `outcome` then the refusal's code (`forbidden`, `schema-violation`...). */
  updates(outcome: string, count: number): void;
  /** A commit's time from its start to durable, when its senders get their acks (R10). */
  committed(seconds: number): void;
}

const MAX_BATCH = 256;
/** A member's presence expires when not refreshed for this long (R19). */
export const DEFAULT_PRESENCE_TIMEOUT_MS = 90_000;

export class Room {
  readonly members = new Set<RoomMember>();
  /** Received, not yet validated (admitted at the end of the turn, or held back: arrivals.ts). */
  private readonly arrivals = new Arrivals<RoomMember>(
    () => this.map,
    (arrival) => this.admit(arrival),
    () => this.startCommit(),
  );
  private pending: PendingWrite[] = [];
  private committing: Promise<void> | undefined;
  /** Each commit's follow-up once it is durable, in commit order (acks, viewers, the ring: R10-R12). */
  private readonly synced = new InCommitOrder((err) => this.storageFailed(err));
  private readonly durability = new DurableMark();
  /** Bumped when the replica is rebuilt from SQL; a welcome computed before a rebuild is recomputed. */
  private generation = 0;
  private readonly position: LogPosition;
  /** Reads what other nodes appended (R20). */
  private readonly catchUps: CatchUp;
  private closed = false;
  /** What compaction folds the log into (R22). */
  readonly fold = new RoomFold(() => ({
    closed: this.closed,
    generation: this.generation,
    committing: this.committing !== undefined,
    uncommitted: this.pending.length > 0,
    catchingUp: this.catchUps.busy,
    position: this.position,
    replica: this.map,
    mirror: this.mirror,
  }));
  /** A turn of the event loop is booked to settle the replica's state (`settleWhenIdle`). */
  private settling = false;
  /** Log entries appended since the room loaded (compaction is scheduled from this). */
  logGrowth = 0;
  /** Who is here and what they have selected (R17-R19): memory only. */
  readonly presence: RoomPresence;

  private map: ServerReplica;
  /** The map's mirror on the mirror thread, which compaction takes its snapshot from (R22). */
  private readonly mirror: MirrorLink;

  constructor(
    readonly tenantId: string,
    readonly mapId: string,
    loaded: LoadedReplica,
    private readonly content: MapContentStore,
    private readonly hooks: RoomHooks,
    private readonly logger: Logger,
    presenceTimeoutMs = DEFAULT_PRESENCE_TIMEOUT_MS,
    mirrors?: MapMirrors,
  ) {
    this.map = loaded.replica;
    this.position = new LogPosition(loaded.seq);
    this.catchUps = new CatchUp(
      {
        mapId,
        position: this.position,
        isClosed: () => this.closed,
        readAfter: (seq) => content.readAfter(tenantId, mapId, seq),
        absorb: (data) => this.absorb(data),
        gone: () => {
          this.shutDown(CloseCode.notFound, 'the map was deleted');
          hooks.gone(this);
        },
        settled: () => this.fold.wake(),
      },
      logger,
    );
    this.mirror = new MirrorLink(mirrors);
    this.mirror.reset(loaded);
    this.presence = new RoomPresence(presenceTimeoutMs, (update) => hooks.presence(this, update));
  }

  get seq(): number {
    return this.position.seq;
  }

  get replica(): ServerReplica {
    return this.map;
  }

  /** Everything a replica at `versionVector` lacks, durable (R5); undefined if the vector does not decode. */
  async syncFor(
    versionVector: Uint8Array,
  ): Promise<{ versionVector: Uint8Array; updates: Uint8Array } | undefined> {
    for (;;) {
      const generation = this.generation;
      const upTo = this.durability.importedCount;
      const serverVersion = this.map.versionVector();
      const updates = this.map.exportUpdatesSince(versionVector.byteLength ? versionVector : undefined);
      if (!updates.ok) return undefined;
      await this.durability.whenDurable(upTo);
      if (generation === this.generation) return { versionVector: serverVersion, updates: updates.value };
    }
  }

  /**
   * A member's update: validated into the replica at the end of the turn with everything else that arrived in
   * it (or held back for updates it builds on: `arrivals.ts`), then queued for the next commit (R8-R12).
   */
  write(member: RoomMember, ref: number, data: Uint8Array): void {
    if (this.closed) return;
    if (!canWrite(member.role)) {
      this.hooks.observer?.updates('forbidden', 1);
      member.send(encodeServer.refused(ref, { code: 'forbidden', message: 'viewers cannot edit this map' }));
      return;
    }
    this.arrivals.add(member, ref, data);
  }

  private admit({ member, ref, data }: Arrival<RoomMember>): void {
    const [admitted] = this.map.importUpdateBatch([data]);
    if (!admitted?.ok) {
      const error = admitted?.error ?? { code: 'malformed-update', message: 'not admitted' };
      this.hooks.observer?.updates(error.code, 1);
      member.send(encodeServer.refused(ref, { code: error.code, message: error.message }));
    } else if (!admitted.value.added) {
      // Nothing new (a resend): acknowledge once everything the replica holds is durable (R13).
      const upTo = this.durability.importedCount;
      void this.durability.whenDurable(upTo).then(() => member.send(encodeServer.ack(ref)));
    } else {
      this.pending.push({ member, ref, data, index: this.durability.next() });
    }
  }

  private startCommit(): void {
    if (this.pending.length > 0 && !this.closed) this.committing ??= this.commitLoop();
  }

  private async commitLoop(): Promise<void> {
    try {
      while (this.pending.length > 0 && !this.closed) {
        const batch = this.pending.splice(0, MAX_BATCH);
        const started = performance.now();
        let frames: CommitFrames | undefined;
        let relayed: ReadonlySet<RoomMember> | undefined;
        const result = await this.content.commit(
          this.tenantId,
          this.mapId,
          batch.map((w) => ({ accountId: w.member.accountId, data: w.data })),
          // Inside the transaction on SQLite, once the roles are checked (R11).
          (accepted) => {
            try {
              frames = commitFrames(batch, accepted);
              relayed = relay(frames, this.members);
            } catch (err) {
              this.logger.error({ err, mapId: this.mapId }, 'collab: relay failed');
            }
          },
        );
        if (result.kind === 'gone') {
          this.shutDown(CloseCode.notFound, 'the map was deleted');
          this.hooks.gone(this);
          return;
        }
        let seq = result.firstSeq;
        const appendedSeqs: number[] = [];
        let refusedAny = false;
        batch.forEach((w, i) => {
          if (result.accepted[i]) appendedSeqs.push(seq++);
          else refusedAny = true;
        });
        if (refusedAny) await this.rebuild(batch.filter((_w, i) => !result.accepted[i]));
        // A gap below our own entries: another node (or a restore) appended in between.
        if (!this.position.committed(appendedSeqs)) this.catchUp();
        if (appendedSeqs.length > 0)
          this.mirror.apply(batch.filter((_w, i) => result.accepted[i]).map((w) => w.data));
        const told = frames ?? commitFrames(batch, result.accepted);
        const heard = relayed;
        this.synced.after(result.durable, () => {
          if (this.closed) return;
          this.durability.markDurable(batch.at(-1)?.index ?? 0);
          fanOut(told, this.members, heard);
          const observer = this.hooks.observer;
          if (observer) {
            observer.committed((performance.now() - started) / 1000);
            observer.updates('accepted', appendedSeqs.length);
            if (appendedSeqs.length < batch.length)
              observer.updates('forbidden', batch.length - appendedSeqs.length);
          }
          if (appendedSeqs.length > 0) {
            this.logGrowth += appendedSeqs.length;
            this.hooks.committed(this, result.headSeq, appendedSeqs.length);
          }
        });
        this.settleWhenIdle();
        this.fold.wake();
      }
    } catch (err) {
      this.storageFailed(err);
    } finally {
      this.committing = undefined;
      this.fold.wake();
    }
  }

  /** The database failed: nothing pending was acknowledged. Drop the room; clients reconnect and resend (R14). */
  private storageFailed(err: unknown): void {
    if (this.closed) return;
    this.logger.error({ err, mapId: this.mapId }, 'collab: commit failed; closing the room');
    this.shutDown(CloseCode.serverError, 'storage failed; reconnect');
    this.hooks.gone(this);
  }

  /** Some updates were refused at commit (their author was demoted meanwhile): drop them from the replica. */
  private async rebuild(refused: PendingWrite[]): Promise<void> {
    this.logger.info(
      { mapId: this.mapId, refused: refused.length },
      'collab: rebuilding the replica without refused updates',
    );
    const loaded = await this.content.loadReplica(this.tenantId, this.mapId);
    if (!loaded) return;
    this.generation++;
    this.map = loaded.replica;
    this.position.reset(loaded.seq);
    this.mirror.reset(loaded);
    this.map.importUpdateBatch(this.pending.map((w) => w.data));
  }

  /** Reads from SQL what this replica lacks and passes it on to the members (R20). Coalesces calls. */
  catchUp(): void {
    this.catchUps.run();
  }

  /** A durable update from elsewhere: into the replica and out to every member here. */
  private absorb(data: Uint8Array): void {
    this.mirror.apply([data]);
    const [r] = this.map.importUpdateBatch([data]);
    if (!r?.ok) {
      this.logger.error({ mapId: this.mapId, err: r?.error }, 'collab: a logged update does not import here');
      return;
    }
    if (!r.value.added) return;
    const frame = encodeServer.update(data);
    for (const m of this.members) m.send(frame);
    this.settleWhenIdle();
  }

  /**
   * The replica admits typing before its state follows (`ServerReplica.settle`): the state catches up in a
   * later turn of the event loop, after the input waiting now, so an edit's fan-out never waits for it.
   */
  private settleWhenIdle(): void {
    if (this.settling || this.map.unsettledCount === 0) return;
    this.settling = true;
    setImmediate(() => {
      this.settling = false;
      if (this.closed) return;
      try {
        this.map.settle();
      } catch (err) {
        // A bug of the typing check (server-replica.ts), never input to crash on: the room serves the log.
        this.logger.error({ err, mapId: this.mapId }, 'collab: the replica state cannot follow its log');
      }
    });
  }

  /** Completes when every queued update is committed and durable (or refused). */
  async flush(): Promise<void> {
    if (this.arrivals.arriving) await new Promise((resolve) => setImmediate(resolve));
    this.arrivals.release();
    while (this.committing || this.synced.pending) {
      await this.committing;
      await this.synced.pending;
    }
    await this.catchUps.idle();
  }

  join(member: RoomMember): void {
    this.members.add(member);
    this.presence.join(member);
  }

  leave(member: RoomMember): void {
    if (!this.members.delete(member)) return;
    this.presence.leave(member);
  }

  /** Roles may have changed (share edited): apply them to the members here (R15). */
  applyRoles(roles: Map<string, MapRole>): void {
    for (const m of this.members) {
      const role = roles.get(m.accountId);
      if (!role) {
        m.close(CloseCode.forbidden, 'this map is no longer shared with you');
      } else if (role !== m.role) {
        m.role = role;
        m.send(encodeServer.role(role));
      }
    }
  }

  shutDown(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.arrivals.close();
    this.mirror.close();
    for (const m of [...this.members]) m.close(code, reason);
    this.members.clear();
    this.presence.close();
    this.durability.releaseAll();
    this.fold.wake();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
