/**
 * `MapMirror`: a map's state kept beside a co-editing room, on another thread (docs/protocol/collab.md R9, R22).
 * It holds the state the room's `ServerReplica` does not: the replica admits typing from its operations alone
 * and takes every other update into its log only once the mirror has checked it (`check`), so the state's moves
 * (~0.2-0.4 ms a keystroke, ~0.65 a crossing one) happen here and not on the event loop that fans edits out. And
 * the snapshot a compaction stores is exported here (~10 ms at 12,000 operations). What it gets through `apply`
 * it does not validate: typing the replica admitted, or updates stored by another node.
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
import type { ModelErrorCode } from './errors.ts';
import { keepLoroHeadroom } from './loro-heap.ts';
import { ROOT_TITLE, configureDoc, countLiveTopics, topicsTree } from './loro-layout.ts';
import { validateState } from './state-validation.ts';
import { measureTexts, type MeasuredText } from './typing-check.ts';
import { watchChange } from './update-gate.ts';

export type { MeasuredText };

/** What `MapMirror.check` found: the texts the update wrote to, measured, or why the update is refused. */
export type CheckVerdict =
  | { ok: true; texts: MeasuredText[] }
  | { ok: false; code: ModelErrorCode; message: string; problems?: string[] };

/** From this many updates on, `apply` imports them as one batch (4 at once cost ~0.9 ms each, 16 ~0.27). */
const BATCH_FROM = 32;

export class MapMirror {
  /** Upper bound on live topics (the topic cap), as in `ServerReplica`; counted again after `apply(.., true)`. */
  private topicBound: number | undefined;

  private constructor(private doc: LoroDoc) {}

  /** The map as stored: its snapshot and the log after it. Throws when the bytes are not Loro's. */
  static open(snapshot: Uint8Array, updates: readonly Uint8Array[]): MapMirror {
    const doc = new LoroDoc();
    configureDoc(doc);
    if (updates.length === 0) doc.import(snapshot);
    else doc.importBatch([snapshot, ...updates]);
    return new MapMirror(doc);
  }

  /**
   * Updates admitted or stored, in that order, not validated here. `fromElsewhere`: they may create topics (the
   * bound is counted again at the next check); typing never does.
   */
  apply(updates: readonly Uint8Array[], fromElsewhere = false): void {
    if (fromElsewhere) this.topicBound = undefined;
    if (updates.length >= BATCH_FROM) this.doc.importBatch([...updates]);
    else for (const update of updates) this.doc.import(update);
    keepLoroHeadroom();
  }

  /**
   * Imports an update that is not typing and checks the state it leads to, as `ServerReplica` checks one on its
   * own state: only where the import changed something. A refused update leaves the mirror as it was.
   */
  check(update: Uint8Array): CheckVerdict {
    this.topicBound ??= countLiveTopics(topicsTree(this.doc));
    const before = this.doc.oplogFrontiers();
    const { scope, touched, unsubscribe } = watchChange(this.doc, this.topicBound);
    try {
      this.doc.import(update);
    } catch (error) {
      this.forkBack(before);
      return {
        ok: false,
        code: 'malformed-update',
        message: `not a valid Loro update: ${String(error).slice(0, 200)}`,
      };
    } finally {
      unsubscribe();
    }
    keepLoroHeadroom();
    const problems = validateState(this.doc, scope);
    if (problems.length > 0) {
      this.forkBack(before);
      return {
        ok: false,
        code: 'schema-violation',
        message: `update refused: ${problems[0] ?? ''}`,
        problems,
      };
    }
    this.topicBound = scope.topicBound;
    return { ok: true, texts: measureTexts(this.doc, touched) };
  }

  /** Back to the version before a refused update, with what waited for its dependencies still waiting. */
  private forkBack(frontiers: ReturnType<LoroDoc['oplogFrontiers']>): void {
    const old = this.doc;
    const doc = old.forkAt(frontiers);
    configureDoc(doc);
    if (doc.isDetached()) doc.attach();
    const pending = old.exportPendingUpdates();
    if (pending) doc.import(pending);
    this.doc = doc;
    old.free();
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
