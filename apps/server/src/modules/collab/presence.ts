/**
 * A room's presence (docs/protocol/collab.md R17-R19): one Loro ephemeral store per room on this node, in
 * memory only (never in SQL), written by the server alone.
 *
 * - Keys are members' session numbers, drawn at random (`freeSession`) so that two nodes' members rarely share
 *   one; under a member's key the server keeps `{accountId, state}` (the account is the server's stamp, the
 *   state what the member said), so every client learns who is behind a key.
 * - A member's update is decoded into a scratch store first; only if it touches nothing but the member's own key
 *   is its value copied in (R18). The member's bytes are never passed on: what the others (here and on other
 *   nodes) receive is the room store's own encoding of that key.
 * - A joiner gets every state after its welcome; a leaver's key is deleted and the deletion sent to everyone;
 *   a state not refreshed within the timeout expires and its deletion is sent the same way (R19).
 * - What this node's members write goes out to the same map's rooms on the other nodes too (`relay`, over the
 *   bus), refreshes included; what they relay comes in through `applyRemote` and on to the members here.
 * - Asked (a node opened the room, or came back after losing messages), a room answers for its own members
 *   only (`answer`): their states and the list of their keys. The asker deletes the keys it holds from that
 *   node that the list lacks (`applyAnswer`): deletions it missed, which would otherwise wait for the expiry.
 * - Clocks need not agree between nodes. Loro's store stamps each write with its writer's clock, drops on
 *   arrival an entry older than its timeout and keeps a key's entry unless an incoming one is newer: a node whose
 *   clock ran 90 s behind would have its members' states dropped everywhere, and one whose clock ran ahead would
 *   have deletions made here (a dead node's keys, an expiry) ignored by the clients. So another node's writes go
 *   first into a copy that never expires (`remote`), which orders each key's writes by its writer's stamps (one
 *   node writes a key); what changes there is written into the room's store here, stamped by this node's clock,
 *   and that is what expires here and what the members here are sent.
 */
import { isDeepStrictEqual } from 'node:util';
import { MAX_PRESENCE_TIMEOUT_MS, PresenceStore, readOwnPresenceUpdate } from '@canopy/model';
import { encodeServer, presenceKey, type PresenceEntry } from '@canopy/sdk';

/** The part of a room member presence needs. */
export interface PresenceMember {
  readonly session: number;
  readonly accountId: string;
  send(frame: Uint8Array): void;
}

export type PresenceRefusal = 'malformed' | 'not-own-key';

/** What a room tells another node's room that asked: its own members' states, and their keys. */
export interface PresenceAnswer {
  /** One store update per key in `own`. */
  updates: Uint8Array[];
  /** The keys of this node's members that hold a state now: nothing else of this node's is current. */
  own: string[];
}

/** `relay`: the other nodes hear of it (a write of one of this node's members, or its leaving). */
type Write =
  | { kind: 'set'; entry: PresenceEntry; announce: boolean; relay: boolean }
  | { kind: 'delete'; relay: boolean };

/** Deletions the `remote` copy may hold before it is made anew without them (Loro keeps them until its timeout). */
const MAX_REMOTE_DELETIONS = 64;

export class RoomPresence {
  private readonly store: PresenceStore;
  private readonly members = new Map<string, PresenceMember>();
  private readonly unsubscribe: () => void;
  /** When each key was last written (Loro stamps a write with `Date.now()`), and writes waiting their turn. */
  private readonly writtenAt = new Map<string, number>();
  private readonly deferred = new Map<string, Write>();
  private retry: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  /** Other nodes' keys as their writers stamped them (see the header); never expires. */
  private remote: PresenceStore;
  private unsubscribeRemote: () => void;
  /** Deletions `remote` has applied since it was made. */
  private remoteDeletions = 0;
  /** Keys an `importRemote` touched (collected while `remote` applies it). */
  private importing: string[] | undefined;
  /** The node whose member holds each key written elsewhere, as that node said (its relays and answers). */
  private readonly owners = new Map<string, string>();

  /** `relay` gets the store's encoding of each key this node's members write (for the other nodes). */
  constructor(
    timeoutMs: number,
    private readonly relay: (update: Uint8Array) => void = () => undefined,
  ) {
    this.store = new PresenceStore(timeoutMs);
    [this.remote, this.unsubscribeRemote] = this.newRemote();
    this.unsubscribe = this.store.subscribe((change) => {
      for (const key of change.removed) this.owners.delete(key);
      // The store calls this from inside its sweep: leave it before writing to it again.
      if (change.by === 'timeout' && change.removed.length > 0)
        queueMicrotask(() => this.expired(change.removed));
    });
  }

  /** A session number for a new member: random, and not a key this room knows (R17). */
  freeSession(): number {
    for (;;) {
      const session = 1 + Math.floor(Math.random() * 0xfffffffe);
      const key = presenceKey(session);
      if (!this.members.has(key) && this.store.get(key) === undefined && !this.writtenAt.has(key))
        return session;
    }
  }

  join(member: PresenceMember): void {
    this.members.set(presenceKey(member.session), member);
  }

  /** Every current state, for a joiner right after its welcome; undefined when nobody has one. */
  snapshot(): Uint8Array | undefined {
    const states = this.states();
    return states && encodeServer.presence(states);
  }

  /** Every current state as a store update; or undefined. */
  states(): Uint8Array | undefined {
    if (this.closed || this.store.keys().length === 0) return undefined;
    return this.store.encodeAll();
  }

  /** For another node's room that asked: this node's members' states and keys (nothing of other nodes'). */
  answer(): PresenceAnswer {
    const own = this.closed
      ? []
      : [...this.members.keys()].filter((key) => this.store.get(key) !== undefined);
    return { own, updates: own.map((key) => this.store.encode(key)) };
  }

  /**
   * A key written by another node's member (`from`), relayed by that node: into the store (newer timestamps of
   * that node win per key), and on to the members here when what they were told changed. Never relayed again.
   */
  applyRemote(update: Uint8Array, from: string): void {
    for (const key of this.importRemote(update)) {
      if (this.current(key) === undefined) this.owners.delete(key);
      else if (!this.members.has(key)) this.owners.set(key, from);
    }
  }

  /**
   * Another node's answer (`answer` there): its members' states, in; and the keys this room holds from that node
   * but the answer lacks, deleted here (they left while this node was not listening).
   */
  applyAnswer(from: string, answer: PresenceAnswer): void {
    if (this.closed) return;
    for (const update of answer.updates) this.importRemote(update);
    const own = new Set(answer.own);
    for (const key of own)
      if (this.current(key) !== undefined && !this.members.has(key)) this.owners.set(key, from);
    this.dropOwnedBy(from, own);
  }

  /** `node` is dead (liveness.ts): its members' keys are deleted here, for the members here only. */
  forgetNode(node: string): void {
    this.dropOwnedBy(node, new Set());
  }

  /** Deletes the keys `node`'s members hold here, but those in `keep`; never relayed (they were not ours). */
  private dropOwnedBy(node: string, keep: ReadonlySet<string>): void {
    if (this.closed) return;
    const dropped = new Set<string>();
    for (const [key, owner] of [...this.owners]) {
      if (owner !== node || keep.has(key)) continue;
      this.owners.delete(key);
      dropped.add(key);
      if (this.current(key) !== undefined) this.put(key, { kind: 'delete', relay: false });
    }
    // Out of the remote copy too, without a deletion stamped by this node's clock there: a later write of that
    // node's (it was not dead after all) must bring the key back, whatever its clock says.
    if (dropped.size > 0) this.renewRemote(dropped);
  }

  /**
   * Applies another node's update to the remote copy and writes what changed there into the store, stamped
   * here (see the header): a refresh too, which restarts the key's expiry here (R19). The keys it touched.
   */
  private importRemote(update: Uint8Array): string[] {
    if (this.closed) return [];
    const touched: string[] = [];
    this.importing = touched;
    try {
      if (!this.remote.apply(update).ok) return [];
    } finally {
      this.importing = undefined;
    }
    const keys = new Set(touched);
    for (const key of keys) {
      // This node's own members' keys are written here; a stale copy from elsewhere changes nothing they see.
      if (this.members.has(key)) continue;
      const value = this.remote.get(key) as PresenceEntry | undefined;
      const now = this.current(key);
      if (value !== undefined) {
        this.put(key, { kind: 'set', entry: value, announce: !isDeepStrictEqual(now, value), relay: false });
      } else {
        this.remoteDeletions++;
        if (now !== undefined) this.put(key, { kind: 'delete', relay: false });
      }
    }
    if (this.remoteDeletions > MAX_REMOTE_DELETIONS) this.renewRemote(new Set());
    return [...keys];
  }

  private newRemote(): [PresenceStore, () => void] {
    const remote = new PresenceStore(MAX_PRESENCE_TIMEOUT_MS);
    const unsubscribe = remote.subscribe((change) => {
      if (change.by === 'import') this.importing?.push(...change.added, ...change.updated, ...change.removed);
    });
    return [remote, unsubscribe];
  }

  /** Makes the remote copy anew with its current entries but those of `drop`, and none of its deletions. */
  private renewRemote(drop: ReadonlySet<string>): void {
    const [old, unsubscribeOld] = [this.remote, this.unsubscribeRemote];
    [this.remote, this.unsubscribeRemote] = this.newRemote();
    this.remoteDeletions = 0;
    for (const key of old.keys()) if (!drop.has(key)) this.remote.apply(old.encode(key));
    unsubscribeOld();
    old.destroy();
  }

  /** A member's presence update: copied into the room's store and passed on, or refused (R18). */
  write(member: PresenceMember, update: Uint8Array): PresenceRefusal | undefined {
    if (this.closed) return undefined;
    const key = presenceKey(member.session);
    const read = readOwnPresenceUpdate(update, key);
    if (!read.ok) return read.error.code === 'malformed-update' ? 'malformed' : 'not-own-key';
    const change = read.value;
    if (change.kind === 'none') return undefined;
    if (change.kind === 'delete') {
      if (this.current(key) !== undefined) this.put(key, { kind: 'delete', relay: true });
      return undefined;
    }
    const entry: PresenceEntry = { accountId: member.accountId, state: change.value };
    // Setting it again refreshes its timestamp (R19); an unchanged state need not be sent to anyone here, but
    // the other nodes' stores must see the refresh, or they would expire it.
    const announce = !isDeepStrictEqual(this.current(key), entry);
    this.put(key, { kind: 'set', entry, announce, relay: true });
    return undefined;
  }

  leave(member: PresenceMember): void {
    const key = presenceKey(member.session);
    this.members.delete(key);
    if (this.closed) return;
    if (this.current(key) !== undefined) this.put(key, { kind: 'delete', relay: true });
    else if (!this.deferred.has(key)) this.writtenAt.delete(key);
  }

  /** The room closed: stop the timers and free the store. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retry);
    this.unsubscribe();
    this.store.destroy();
    this.unsubscribeRemote();
    this.remote.destroy();
    this.members.clear();
    this.deferred.clear();
    this.owners.clear();
  }

  /** The key's value once the writes waiting for it are done. */
  private current(key: string): unknown {
    const pending = this.deferred.get(key);
    if (pending) return pending.kind === 'set' ? pending.entry : undefined;
    return this.store.get(key);
  }

  /**
   * Writes a key at most once per millisecond. A client applies an entry only if it is newer than the one it
   * holds, and Loro's timestamps are milliseconds: a second write in the same millisecond (a state, then its
   * member leaving) would be dropped by every client, which never expires entries itself. A write too early
   * (or after the clock stepped back) waits; of several, only the latest for the key is made.
   */
  private put(key: string, write: Write): void {
    const last = this.writtenAt.get(key);
    if (this.deferred.has(key) || (last !== undefined && Date.now() <= last)) {
      this.deferred.set(key, write);
      this.scheduleRetry();
      return;
    }
    this.apply(key, write);
  }

  private apply(key: string, write: Write): void {
    if (write.kind === 'set') this.store.set(key, write.entry);
    else this.store.delete(key);
    // Read after the write: no earlier than the stamp the store gave it.
    this.writtenAt.set(key, Date.now());
    // The key's member (if still here) said it, or needs no word of its own state expiring.
    const encoded =
      write.kind === 'delete' || write.announce || write.relay ? this.store.encode(key) : undefined;
    if (encoded && (write.kind === 'delete' || write.announce))
      this.broadcast(encodeServer.presence(encoded), this.members.get(key));
    if (encoded && write.relay) this.relay(encoded);
    if (write.kind === 'delete' && !this.members.has(key)) this.writtenAt.delete(key);
  }

  private scheduleRetry(): void {
    if (this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (this.closed) return;
      const now = Date.now();
      for (const [key, write] of [...this.deferred]) {
        if (now <= (this.writtenAt.get(key) ?? -Infinity)) continue;
        this.deferred.delete(key);
        this.apply(key, write);
      }
      if (this.deferred.size > 0) this.scheduleRetry();
    }, 1);
    this.retry.unref?.();
  }

  /**
   * States the store expired: the members hear of it from a deletion (their stores do not expire them). The
   * other nodes expire their copies themselves; a deletion from here could outlive a refresh that was late to
   * arrive, so only this node's members' keys are relayed.
   */
  private expired(keys: readonly string[]): void {
    if (this.closed) return;
    for (const key of keys)
      if (this.store.get(key) === undefined && !this.deferred.has(key))
        this.put(key, { kind: 'delete', relay: this.members.has(key) });
  }

  private broadcast(frame: Uint8Array, except: PresenceMember | undefined): void {
    for (const m of this.members.values()) if (m !== except) m.send(frame);
  }
}
