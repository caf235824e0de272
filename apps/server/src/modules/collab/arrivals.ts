/**
 * The updates a room has received and not admitted yet, and the order it admits them in (docs/protocol/collab.md
 * R9, R12, R16).
 *
 * Updates that arrive in one turn of the event loop are admitted together, at the end of it, so that they go
 * into one commit. They are admitted in arrival order, except an update that builds on updates the room has not
 * received yet: it is held back, with every later update of the same member, until what it needs has been
 * admitted, or for `HOLD_MS` at most. Loro would keep such an update aside and apply it together with the one
 * that releases it, and moving the replica's state over changes applied together costs several ms
 * (`ServerReplica.waitsFor`); held back, each is admitted on its own, usually as typing. Clients build only on
 * what their room sent them, so this is for sockets racing each other: senders whose updates build on one
 * another's before the room has relayed them (a load generator, a client relaying another's edits), resends
 * after a reconnect. Reading what an update needs costs 0.05-0.1 ms, more than admitting it, so a turn that
 * brought a single update while nothing is held back admits it without reading (it is almost always ready).
 */
import type { ServerReplica, UpdateNeeds } from '@canopy/model';

export interface Arrival<M> {
  member: M;
  ref: number;
  data: Uint8Array;
  /** When it arrived (`performance.now()`). */
  at: number;
  /** What it builds on, once read (`ServerReplica.needsOf`); null when that cannot be read. */
  needs?: UpdateNeeds | null;
}

/** How long an update is held back for the updates it builds on before it is admitted anyway. */
export const HOLD_MS = 20;
/** At most this many updates are held back per room; with more, all are admitted at once. */
const MAX_HELD = 256;

export class Arrivals<M> {
  /** Arrived this turn of the event loop. */
  private incoming: Arrival<M>[] = [];
  /** Arrived earlier and held back, in arrival order. */
  private held: Arrival<M>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly replica: () => ServerReplica,
    /** Admits one update into the replica (and queues it for the commit). */
    private readonly admit: (arrival: Arrival<M>) => void,
    /** After a turn's admissions: the room starts its commit. */
    private readonly admitted: () => void,
  ) {}

  add(member: M, ref: number, data: Uint8Array): void {
    if (this.closed) return;
    this.incoming.push({ member, ref, data, at: performance.now() });
    if (this.incoming.length === 1) setImmediate(() => this.drain());
  }

  /** Whether updates wait for the end of this turn. */
  get arriving(): boolean {
    return this.incoming.length > 0;
  }

  /** Admits what has arrived, holding back what builds on updates not received yet (see the header). */
  private drain(): void {
    const lone = this.held.length === 0 && this.incoming.length === 1;
    let rest = this.held.length > 0 ? [...this.held, ...this.incoming] : this.incoming;
    this.incoming = [];
    this.held = [];
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed) return;
    // One update, nothing held back: admitted without reading its needs (see the header); if it is not ready
    // after all, it waits inside the replica.
    if (lone) rest[0]!.needs = null;
    // Each pass admits what is ready; what it admitted may be what held-back updates were waiting for.
    for (let before = 0; rest.length > 0 && rest.length !== before;) {
      before = rest.length;
      rest = this.admitReady(rest);
    }
    const oldest = rest[0]?.at;
    if (oldest !== undefined) {
      if (rest.length > MAX_HELD || performance.now() - oldest >= HOLD_MS) {
        for (const arrival of rest) this.admit(arrival);
      } else {
        this.held = rest;
        const wait = Math.max(1, Math.ceil(oldest + HOLD_MS - performance.now()));
        this.timer = setTimeout(() => this.drain(), wait);
      }
    }
    this.admitted();
  }

  /** Admits the arrivals that need nothing missing; returns the others, in order. */
  private admitReady(arrivals: Arrival<M>[]): Arrival<M>[] {
    const replica = this.replica();
    const later: Arrival<M>[] = [];
    const blocked = new Set<M>();
    for (const arrival of arrivals) {
      if (!blocked.has(arrival.member)) {
        if (arrival.needs === undefined) arrival.needs = replica.needsOf(arrival.data) ?? null;
        if (!arrival.needs || !replica.waitsFor(arrival.needs)) {
          this.admit(arrival);
          continue;
        }
      }
      // A member's updates are admitted in its order, so that its acks are too (R16).
      blocked.add(arrival.member);
      later.push(arrival);
    }
    return later;
  }

  /** Admits everything held back now (to wait inside the replica instead); whether there was any. */
  release(): boolean {
    if (this.closed || this.held.length === 0) return false;
    const held = this.held;
    this.held = [];
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const arrival of held) this.admit(arrival);
    this.admitted();
    return true;
  }

  /** Drops everything not admitted (the room closed: nothing of it was acknowledged). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.incoming = [];
    this.held = [];
  }
}
