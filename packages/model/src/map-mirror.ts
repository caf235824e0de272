/**
 * `MapMirror`: a map's state kept beside a co-editing room from the updates the room has made durable, for the
 * room's compaction (docs/protocol/collab.md R22). A server keeps it on another thread, so that the snapshot a
 * compaction stores is exported there (~10 ms at 12,000 operations) and not on the event loop that fans edits
 * out. It validates nothing: every update it gets was validated by the room's `ServerReplica` and stored.
 *
 * Its Loro document is attached: each import moves the state, so an export never waits for the state to catch
 * up. The first import after loading a snapshot builds the state Loro loads lazily (tens of ms at thousands of
 * operations), once per room.
 *
 * Imported one at a time, keystrokes cost ~0.16-0.3 ms each (50 peers, 3,000 updates; microbenchmark, session
 * 8); as one `importBatch` Loro moves the state once for all of them, ~3.5 ms plus 0.03-0.06 ms each (256
 * keystrokes: 0.08-0.09 ms each, 512: ~0.06). Below `BATCH_FROM` updates, one import each is cheaper.
 */
import { LoroDoc } from 'loro-crdt';
import { keepLoroHeadroom } from './loro-heap.ts';
import { ROOT_TITLE, configureDoc } from './loro-layout.ts';

/** From this many updates on, `apply` imports them as one batch (4 at once cost ~0.9 ms each, 16 ~0.27). */
const BATCH_FROM = 32;

export class MapMirror {
  private constructor(private readonly doc: LoroDoc) {}

  /** The map as stored: its snapshot and the log after it. Throws when the bytes are not Loro's. */
  static open(snapshot: Uint8Array, updates: readonly Uint8Array[]): MapMirror {
    const doc = new LoroDoc();
    configureDoc(doc);
    if (updates.length === 0) doc.import(snapshot);
    else doc.importBatch([snapshot, ...updates]);
    return new MapMirror(doc);
  }

  /** Updates the room has stored, in the order it stored them. */
  apply(updates: readonly Uint8Array[]): void {
    if (updates.length >= BATCH_FROM) this.doc.importBatch([...updates]);
    else for (const update of updates) this.doc.import(update);
    keepLoroHeadroom();
  }

  /**
   * The map as a snapshot, and its title; undefined while some update waits for ones it depends on (a snapshot
   * would leave it out, and folding the log into it would lose it).
   */
  export(): { snapshot: Uint8Array; title: string } | undefined {
    if (this.doc.exportPendingUpdates()) return undefined;
    return {
      snapshot: this.doc.export({ mode: 'snapshot' }),
      title: this.doc.getText(ROOT_TITLE).toString(),
    };
  }

  /** The encoded version vector of what it holds (for tests and checks). */
  versionVector(): Uint8Array {
    return this.doc.oplogVersion().encode();
  }

  free(): void {
    this.doc.free();
  }
}
