/**
 * What a room tells its members once a commit is durable (docs/protocol/collab.md R10-R12, R15, R16): each
 * sender its acks (or, for an update its author could no longer write, `refused` and its new role), every
 * other member the updates, all in commit order and one socket write per member.
 *
 * A member that sent nothing in the commit hears exactly its accepted updates, so all such members share one
 * list of frames (the gateway frames and concatenates it once for all of them); only senders get a list of
 * their own. A list per member, gathered in a map, had been a quarter of the server's allocations at the
 * issue's load (50 members; sampling heap profile, session 8), most of it garbage that each scavenge paid for.
 */
import { encodeServer } from '@canopy/sdk';
import type { RoomMember } from './room.ts';

/** One update of a commit: who sent it, under which ref, its bytes. */
export interface Committed {
  member: RoomMember;
  ref: number;
  data: Uint8Array;
}

/**
 * Tells `members` about `batch`, whose entries the commit `accepted` (by index). Refused entries' authors
 * become viewers here (R15). Lists handed to `sendAll` are never changed afterwards.
 */
export function fanOut(
  batch: readonly Committed[],
  accepted: readonly boolean[],
  members: Iterable<RoomMember>,
): void {
  const frames = batch.map((w, i) => (accepted[i] ? encodeServer.update(w.data) : undefined));
  const shared = frames.filter((frame) => frame !== undefined);
  const senders = new Set(batch.map((w) => w.member));
  for (const sender of senders) {
    const own: Uint8Array[] = [];
    batch.forEach((w, i) => {
      const frame = frames[i];
      if (w.member !== sender) {
        if (frame) own.push(frame);
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
    if (!accepted[i]) w.member.role = 'viewer';
  });
  if (shared.length === 0) return;
  for (const m of members) if (!senders.has(m)) m.sendAll(shared);
}
