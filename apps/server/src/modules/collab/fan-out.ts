/**
 * What a room tells its members about a commit (docs/protocol/collab.md R10-R12, R15, R16), in two steps:
 *
 * - `relay`, once the commit's transaction has checked the authors' roles (on SQLite inside the transaction,
 *   before the rows are written and long before the WAL is synced): the room's editors hear the accepted
 *   updates they did not send. An editor that holds an update the log then does not keep sends it back when
 *   it reconnects (R6), so nothing it was shown goes missing for good (R11).
 * - `fanOut`, once the commit is durable: each sender its acks (or, for an update its author could no longer
 *   write, `refused` and its new role), and every member the relay skipped (viewers, members who joined
 *   meanwhile) the updates. Each in commit order, one socket write per member and step.
 *
 * A member that sent nothing in the commit hears exactly its accepted updates, so all such members share one
 * list of frames (the gateway frames and concatenates it once for all of them); only senders get a list of
 * their own. A list per member, gathered in a map, had been a quarter of the server's allocations at the
 * issue's load (50 members; sampling heap profile, session 8), most of it garbage that each scavenge paid for.
 */
import { encodeServer } from '@canopy/sdk';
import { canWrite } from '../maps/index.ts';
import type { RoomMember } from './room.ts';

/** One update of a commit: who sent it, under which ref, its bytes. */
export interface Committed {
  member: RoomMember;
  ref: number;
  data: Uint8Array;
}

/** A commit's updates as frames, made once for both steps. */
export interface CommitFrames {
  readonly batch: readonly Committed[];
  readonly accepted: readonly boolean[];
  /** By batch index; undefined where the commit refused the update. */
  readonly frames: readonly (Uint8Array | undefined)[];
  /** The accepted updates' frames: what a member that sent nothing hears. Never changed once made. */
  readonly shared: readonly Uint8Array[];
  readonly senders: ReadonlySet<RoomMember>;
}

/** Frames `batch`, whose entries the commit `accepted` (by index). */
export function commitFrames(batch: readonly Committed[], accepted: readonly boolean[]): CommitFrames {
  const frames = batch.map((w, i) => (accepted[i] ? encodeServer.update(w.data) : undefined));
  return {
    batch,
    accepted,
    frames,
    shared: frames.filter((frame) => frame !== undefined),
    senders: new Set(batch.map((w) => w.member)),
  };
}

const NOBODY: ReadonlySet<RoomMember> = new Set();

/**
 * Step one: the editors among `members` hear the accepted updates they did not send. A sender whose update
 * the commit refused (demoted meanwhile, R15) is not an editor any more and waits for step two. Returns who
 * heard.
 */
export function relay(commit: CommitFrames, members: Iterable<RoomMember>): ReadonlySet<RoomMember> {
  if (commit.shared.length === 0) return NOBODY;
  const demoted = new Set(commit.batch.filter((_w, i) => !commit.accepted[i]).map((w) => w.member));
  const relayed = new Set<RoomMember>();
  for (const m of members) {
    if (!canWrite(m.role) || demoted.has(m)) continue;
    relayed.add(m);
    if (!commit.senders.has(m)) {
      m.sendAll(commit.shared);
      continue;
    }
    const others = commit.frames.filter((frame, i) => frame !== undefined && commit.batch[i]!.member !== m);
    if (others.length > 0) m.sendAll(others as Uint8Array[]);
  }
  return relayed;
}

/**
 * Step two, once the commit is durable: senders their acks or refusals (refused entries' authors become
 * viewers here, R15), and every member `relayed` does not hold the updates. Lists handed to `sendAll` are
 * never changed afterwards.
 */
export function fanOut(
  commit: CommitFrames,
  members: Iterable<RoomMember>,
  relayed: ReadonlySet<RoomMember> = NOBODY,
): void {
  const { batch, frames, senders } = commit;
  for (const sender of senders) {
    const own: Uint8Array[] = [];
    const heard = relayed.has(sender);
    batch.forEach((w, i) => {
      const frame = frames[i];
      if (w.member !== sender) {
        if (frame && !heard) own.push(frame);
      } else if (frame) own.push(encodeServer.ack(w.ref));
      else {
        own.push(
          encodeServer.refused(w.ref, { code: 'forbidden', message: 'your role no longer allows editing' }),
          encodeServer.role('viewer'),
        );
      }
    });
    if (own.length > 0) sender.sendAll(own);
  }
  batch.forEach((w, i) => {
    if (!commit.accepted[i]) w.member.role = 'viewer';
  });
  if (commit.shared.length === 0) return;
  for (const m of members) if (!senders.has(m) && !relayed.has(m)) m.sendAll(commit.shared);
}
