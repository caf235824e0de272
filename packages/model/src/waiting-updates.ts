/**
 * Updates that wait for the ones they build on (`ServerReplica`): Loro takes such an update into its log and
 * applies it once what it depends on arrives. The replica keeps track of what waits itself, from each import's
 * status, and what an update needs can be read before importing it (arrivals hold such updates back, R12).
 */
import { decodeImportBlobMeta, type ImportStatus, type LoroDoc, type PeerID } from 'loro-crdt';

/** The list of waiting updates is pruned once it has doubled since the last pass, and from this length. */
const MIN_PRUNE = 64;
/** Past this many waiting updates, Loro's own export of what waits replaces them (each operation once). */
const MAX_KEPT = 1024;

/** What an update builds on (`updateNeeds`): where its peers' operations start, and its first deps. */
export interface UpdateNeeds {
  starts: Map<PeerID, number>;
  deps: { peer: PeerID; counter: number }[];
}

/**
 * What an update needs in the log before it can apply, read without importing it (0.05-0.1 ms for a keystroke
 * on a map 50 people typed into: Loro decodes the whole update, so this costs more than the import).
 * Undefined when the bytes are not a Loro update (the import will say what is wrong).
 */
export function updateNeeds(bytes: Uint8Array): UpdateNeeds | undefined {
  let meta;
  try {
    meta = decodeImportBlobMeta(bytes, false);
  } catch {
    return undefined;
  }
  const starts = meta.partialStartVersionVector.toJSON();
  meta.partialStartVersionVector.free();
  meta.partialEndVersionVector.free();
  if (meta.mode !== 'update') return undefined;
  return { starts, deps: meta.startFrontiers };
}

export class WaitingUpdates {
  /**
   * Operations that wait for ones they depend on: per peer, the counter they reach. Kept from the imports'
   * statuses (what each left pending, what each applied), so admitting an update never asks Loro to export its
   * pending updates: that is O(pending) per call, and when updates from many sockets arrive out of causal order
   * under load, much is pending and every admit paid for all of it.
   */
  private readonly waiting = new Map<PeerID, number>();
  /**
   * The admitted updates that left something pending (and, per peer, the counter it reaches): imported again
   * after a fork back, to keep it waiting. Those whose operations all applied are dropped when the list has
   * doubled since the last pass, so it stays in proportion to what waits.
   */
  private updates: { bytes: Uint8Array; until: [PeerID, number][] }[] = [];
  private pruneAt = MIN_PRUNE;

  /** Whether anything waits (a snapshot would leave it out). */
  get any(): boolean {
    return this.waiting.size > 0;
  }

  /** What waits in a document just loaded (its own export of it). */
  load(doc: LoroDoc): void {
    const pending = doc.exportPendingUpdates();
    this.updates = pending ? [{ bytes: pending, until: [] }] : [];
    this.reimport(doc);
  }

  /**
   * Imports the waiting updates into `doc` (a fork or a reload, which left them out; a no-op for what it
   * holds) and reads what waits from that.
   */
  reimport(doc: LoroDoc): void {
    this.waiting.clear();
    for (const { bytes } of this.updates) this.note(doc.import(bytes));
    if (this.waiting.size === 0) this.updates = [];
  }

  /** `bytes` were imported into `doc` with `status`, and admitted. */
  imported(doc: LoroDoc, bytes: Uint8Array, status: ImportStatus): void {
    this.note(status);
    if (this.waiting.size === 0) this.updates = [];
    else if (status.pending != null) this.keep(doc, bytes, status.pending);
  }

  private keep(doc: LoroDoc, bytes: Uint8Array, pending: NonNullable<ImportStatus['pending']>): void {
    this.updates.push({ bytes, until: [...pending].map(([peer, span]) => [peer, span.end]) });
    if (this.updates.length < this.pruneAt) return;
    const applied = doc.oplogVersion();
    this.updates = this.updates.filter(
      ({ until }) => until.length === 0 || until.some(([peer, end]) => (applied.get(peer) ?? 0) < end),
    );
    if (this.updates.length > MAX_KEPT) {
      // Much still waits (or a client sends the same waiting update again and again): Loro's own export of what
      // waits holds each operation once.
      const all = doc.exportPendingUpdates();
      this.updates = all ? [{ bytes: all, until: [] }] : [];
    }
    this.pruneAt = Math.max(MIN_PRUNE, 2 * this.updates.length);
  }

  /** What an import left waiting, and what it applied of what waited before. */
  private note(status: ImportStatus): void {
    for (const [peer, span] of status.pending ?? [])
      this.waiting.set(peer, Math.max(span.end, this.waiting.get(peer) ?? 0));
    if (this.waiting.size === 0) return;
    for (const [peer, span] of status.success) {
      // A peer's operations enter the log in counter order: applied up to `end` means nothing below it waits.
      const end = this.waiting.get(peer);
      if (end !== undefined && span.end >= end) this.waiting.delete(peer);
    }
  }
}
