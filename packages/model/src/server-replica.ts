/**
 * `ServerReplica`: a map as a co-editing server holds it. It admits, stores and serves updates; it has no JSON
 * view, no undo and no editing operations (a `MindMap` is built from it when one is needed).
 *
 * It admits an update exactly as `MindMap.importUpdates` does (the state the update leads to must pass
 * validation, checked only where the update changed something), but on one Loro document instead of a map
 * plus a shadow copy: the update goes straight in, and if the state it leads to is refused the document is
 * forked back to the version before it. An accepted update thus costs one import instead of two, which is most
 * of a server's work per edit; a refused one costs a fork (O(document)), as the shadow's re-fork does in
 * `MindMap`. Nobody reads this document between the import and the check, so the invalid state is never seen.
 */
import { LoroDoc, type LoroEventBatch } from 'loro-crdt';
import { fail, ok, type ModelResult } from './errors.ts';
import { acceptLoadedDoc, exportUpdatesFrom } from './doc-io.ts';
import { MAX_SNAPSHOT_BYTES, MAX_UPDATE_BYTES } from './limits.ts';
import { ROOT_TITLE, configureDoc, countLiveTopics, topicsTree } from './loro-layout.ts';
import { MindMap } from './mind-map.ts';
import { validateState, type ChangeScope } from './state-validation.ts';
import { collectScope, newScope, summaryOf, type ImportSummary } from './update-gate.ts';

export class ServerReplica {
  private doc!: LoroDoc;
  private scope: ChangeScope | undefined;
  /** Upper bound on live topics (the topic cap), as in the update gate. */
  private topicBound = 0;
  /** Some imported updates wait for ones they depend on (a fork back must keep them waiting). */
  private hasPending = false;

  private constructor(doc: LoroDoc) {
    this.attach(doc);
  }

  /**
   * A replica from a stored snapshot plus its log (each entry validated when it was stored), migrated and
   * validated once, as `MindMap.fromSnapshotAndUpdates` does, without building a `MindMap` first.
   */
  static open(snapshot: Uint8Array, updates: readonly Uint8Array[]): ModelResult<ServerReplica> {
    if (!(snapshot instanceof Uint8Array)) return fail('malformed-update', 'a snapshot must be a Uint8Array');
    if (snapshot.byteLength > MAX_SNAPSHOT_BYTES)
      return fail('limit-exceeded', `snapshot exceeds ${MAX_SNAPSHOT_BYTES} bytes`);
    const doc = new LoroDoc();
    try {
      if (updates.length === 0) doc.import(snapshot);
      else doc.importBatch([snapshot, ...updates]);
    } catch (error) {
      return fail('malformed-update', `not a Loro snapshot: ${String(error).slice(0, 200)}`);
    }
    const migrated = acceptLoadedDoc(doc);
    if (!migrated.ok) return migrated;
    return ok(new ServerReplica(doc));
  }

  /** A replica holding what `map` holds (a map loaded from storage, hence valid). */
  static fromMap(map: MindMap): ServerReplica {
    const doc = new LoroDoc();
    doc.import(map.exportSnapshot());
    return new ServerReplica(doc);
  }

  private attach(doc: LoroDoc): void {
    configureDoc(doc);
    doc.subscribe((batch: LoroEventBatch) => {
      if (this.scope) collectScope(this.scope, batch);
    });
    this.doc = doc;
    this.topicBound = countLiveTopics(topicsTree(doc));
    this.hasPending = doc.exportPendingUpdates() !== undefined;
  }

  /** `MindMap.importUpdates` for each update in order: a refused one changes nothing and the rest still apply. */
  importUpdateBatch(updates: readonly Uint8Array[]): ModelResult<ImportSummary>[] {
    return updates.map((bytes) => this.admit(bytes));
  }

  private admit(bytes: unknown): ModelResult<ImportSummary> {
    if (!(bytes instanceof Uint8Array)) return fail('malformed-update', 'an update must be a Uint8Array');
    if (bytes.byteLength > MAX_UPDATE_BYTES) {
      return fail('limit-exceeded', `update of ${bytes.byteLength} bytes exceeds ${MAX_UPDATE_BYTES}`);
    }
    const before = this.doc.oplogFrontiers();
    const pendingBefore = this.hasPending ? this.doc.exportPendingUpdates() : undefined;
    const scope = newScope(this.topicBound);
    this.scope = scope;
    let status;
    try {
      status = this.doc.import(bytes);
    } catch (error) {
      this.forkBack(before, pendingBefore);
      return fail('malformed-update', `not a Loro update: ${String(error).slice(0, 200)}`);
    } finally {
      this.scope = undefined;
    }
    const problems = validateState(this.doc, scope);
    if (problems.length > 0) {
      this.forkBack(before, pendingBefore);
      return fail('schema-violation', `update refused: ${problems[0] ?? ''}`, problems);
    }
    this.topicBound = scope.topicBound;
    const summary = summaryOf(status);
    if (summary.pending) this.hasPending = true;
    else if (this.hasPending) this.hasPending = this.doc.exportPendingUpdates() !== undefined;
    return ok(summary);
  }

  /** Back to the version before a refused update, with the updates that were waiting then still waiting. */
  private forkBack(frontiers: ReturnType<LoroDoc['oplogFrontiers']>, pending: Uint8Array | undefined): void {
    const old = this.doc;
    const doc = old.forkAt(frontiers);
    if (pending) doc.import(pending);
    this.attach(doc);
    old.free();
  }

  /** The encoded version vector, for `exportUpdatesSince` on another replica. */
  versionVector(): Uint8Array {
    return this.doc.oplogVersion().encode();
  }

  /** Everything this replica has that a replica at `versionVector` lacks (everything, without one). */
  exportUpdatesSince(versionVector?: Uint8Array): ModelResult<Uint8Array> {
    return exportUpdatesFrom(this.doc, versionVector);
  }

  exportSnapshot(): Uint8Array {
    return this.doc.export({ mode: 'snapshot' });
  }

  /** Whether some imported updates still wait for updates they depend on (a snapshot would leave them out). */
  hasPendingUpdates(): boolean {
    return this.hasPending;
  }

  /** The map's title, as `toJSON().title` of a `MindMap` would read it. */
  title(): string {
    return this.doc.getText(ROOT_TITLE).toString();
  }

  /** A `MindMap` holding the same state (for its JSON view; O(document)). */
  toMindMap(): MindMap {
    const opened = MindMap.fromSnapshot(this.exportSnapshot());
    if (!opened.ok) throw opened.error;
    return opened.value;
  }
}
