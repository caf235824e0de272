/**
 * What a room's compaction folds the log into (docs/protocol/collab.md R22): a durable state of the map as of a
 * log seq, taken from the room without waiting for it to fall idle, so the log up to that seq can be replaced by
 * the snapshot (`MapContentStore.compactTo`). Without one, the compaction replays the log from SQL instead.
 */
import type { ServerReplica } from '@canopy/model';
import type { LogPosition } from './log-position.ts';
import type { MirrorLink } from './mirrors.ts';

/** The map as of a log seq: what compaction folds in (`MapContentStore.compactTo`). */
export interface DurableState {
  snapshot: Uint8Array;
  title: string;
  seq: number;
}

/** Commits a compaction waits through for a state to fold before it replays the log instead. */
const MAX_FOLD_ATTEMPTS = 100;

/** The room as its fold reads it, at the moment it asks. */
export interface FoldSource {
  readonly closed: boolean;
  /** Bumped when the replica is rebuilt from SQL (a state taken across a rebuild is taken again). */
  readonly generation: number;
  /** A commit is in flight. */
  readonly committing: boolean;
  /** Updates are in the replica that wait for a commit. */
  readonly uncommitted: boolean;
  /** A catch-up is reading what other nodes appended. */
  readonly catchingUp: boolean;
  readonly position: LogPosition;
  readonly replica: ServerReplica;
  readonly mirror: MirrorLink;
}

export class RoomFold {
  /** Compactions waiting for the end of a commit or catch-up. */
  private waiters: (() => void)[] = [];

  constructor(private readonly room: () => FoldSource) {}

  /** A commit or catch-up ended, or the room closed: waiting compactions look again. */
  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * The replica as of `seq` when nothing is on its way into it or into the log (no imported update waiting for
   * its commit, no commit in flight, no catch-up, no gap, no Loro update waiting for its dependencies), else
   * undefined. Compaction then folds the log into this snapshot instead of reading and replaying the log.
   * Updates not admitted yet (`arrivals`) are not in the replica and do not matter.
   */
  durableState(): DurableState | undefined {
    const room = this.room();
    const idle =
      !room.closed &&
      !room.uncommitted &&
      !room.committing &&
      !room.catchingUp &&
      room.position.contiguous &&
      !room.replica.hasPendingUpdates();
    if (!idle) return undefined;
    return {
      snapshot: room.replica.exportSnapshot(),
      title: room.replica.title(),
      seq: room.position.seq,
    };
  }

  /**
   * A durable state of the room for compaction, without waiting for the room to fall idle (R22): the mirror's
   * snapshot, asked for when no commit of the room's lies beyond a gap and no catch-up is reading SQL (the
   * mirror then holds exactly what is stored up to `seq`); else, at the end of a commit or catch-up, again.
   * An idle room whose mirror cannot answer (never opened: nothing stored since it loaded; or its thread
   * died or was ended) gives its replica's state, and a mirror that was lost opens again from that state.
   * Undefined when the room is closed, or when updates wait for their dependencies all along: the log is
   * replayed then.
   */
  async durableSnapshot(): Promise<DurableState | undefined> {
    for (let attempt = 0; attempt < MAX_FOLD_ATTEMPTS && !this.room().closed; attempt++) {
      const room = this.room();
      if (room.mirror.opened && room.position.contiguous && !room.catchingUp) {
        const seq = room.position.seq;
        const generation = room.generation;
        const state = await room.mirror.snapshot();
        const now = this.room();
        if (state && generation === now.generation && !now.closed) return { ...state, seq };
      }
      const now = this.room();
      if (!now.committing && !now.catchingUp) {
        const state = this.durableState();
        // A mirror whose thread ended opens again from this state: the room folds on its mirror from then on,
        // not on the event loop at every compaction until it reloads.
        if (state && now.mirror.lost) now.mirror.reopen({ snapshot: state.snapshot, updates: [] });
        return state;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return undefined;
  }
}
