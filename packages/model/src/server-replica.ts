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
import { LoroDoc, type ImportStatus, type LoroEventBatch, type PeerID } from 'loro-crdt';
import { fail, ok, type ModelResult } from './errors.ts';
import { acceptLoadedDoc, exportUpdatesFrom } from './doc-io.ts';
import { MAX_SNAPSHOT_BYTES, MAX_UPDATE_BYTES } from './limits.ts';
import { ROOT_TITLE, configureDoc, countLiveTopics, topicsTree } from './loro-layout.ts';
import { MindMap } from './mind-map.ts';
import { validateState, type ChangeScope } from './state-validation.ts';
import { collectScope, newScope, summaryOf, type ImportSummary } from './update-gate.ts';

const MIN_PRUNE = 64;
const MAX_KEPT = 1024;

export class ServerReplica {
  private doc!: LoroDoc;
  private scope: ChangeScope | undefined;
  /** Upper bound on live topics (the topic cap), as in the update gate. */
  private topicBound = 0;
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
  private waitingUpdates: { bytes: Uint8Array; until: [PeerID, number][] }[] = [];
  private pruneAt = MIN_PRUNE;

  private constructor(doc: LoroDoc) {
    const pending = doc.exportPendingUpdates();
    if (pending) this.waitingUpdates = [{ bytes: pending, until: [] }];
    this.rewait(doc);
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
  }

  /** Imports `waitingUpdates` into `doc` again (a no-op for what it holds) and reads what waits from that. */
  private rewait(doc: LoroDoc): void {
    this.waiting.clear();
    for (const { bytes } of this.waitingUpdates) this.noteWaiting(doc.import(bytes));
    if (this.waiting.size === 0) this.waitingUpdates = [];
  }

  private keepWaiting(bytes: Uint8Array, pending: ImportStatus['pending']): void {
    this.waitingUpdates.push({ bytes, until: [...(pending ?? [])].map(([peer, span]) => [peer, span.end]) });
    if (this.waitingUpdates.length < this.pruneAt) return;
    const applied = this.doc.oplogVersion();
    this.waitingUpdates = this.waitingUpdates.filter(
      ({ until }) => until.length === 0 || until.some(([peer, end]) => (applied.get(peer) ?? 0) < end),
    );
    if (this.waitingUpdates.length > MAX_KEPT) {
      // Much still waits (or a client sends the same waiting update again and again): Loro's own export of what
      // waits holds each operation once.
      const pending = this.doc.exportPendingUpdates();
      this.waitingUpdates = pending ? [{ bytes: pending, until: [] }] : [];
    }
    this.pruneAt = Math.max(MIN_PRUNE, 2 * this.waitingUpdates.length);
  }

  /** What an import left waiting, and what it applied of what waited before. */
  private noteWaiting(status: ImportStatus): void {
    for (const [peer, span] of status.pending ?? [])
      this.waiting.set(peer, Math.max(span.end, this.waiting.get(peer) ?? 0));
    if (this.waiting.size === 0) return;
    for (const [peer, span] of status.success) {
      // A peer's operations enter the log in counter order: applied up to `end` means nothing below it waits.
      const end = this.waiting.get(peer);
      if (end !== undefined && span.end >= end) this.waiting.delete(peer);
    }
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
    const scope = newScope(this.topicBound);
    this.scope = scope;
    let status;
    try {
      status = this.doc.import(bytes);
    } catch (error) {
      this.forkBack(before);
      return fail('malformed-update', `not a Loro update: ${String(error).slice(0, 200)}`);
    } finally {
      this.scope = undefined;
    }
    const problems = validateState(this.doc, scope);
    if (problems.length > 0) {
      this.forkBack(before);
      return fail('schema-violation', `update refused: ${problems[0] ?? ''}`, problems);
    }
    this.topicBound = scope.topicBound;
    const summary = summaryOf(status);
    this.noteWaiting(status);
    if (this.waiting.size === 0) this.waitingUpdates = [];
    else if (summary.pending) this.keepWaiting(bytes, status.pending);
    return ok(summary);
  }

  /** Back to the version before a refused update, with the updates that were waiting then still waiting. */
  private forkBack(frontiers: ReturnType<LoroDoc['oplogFrontiers']>): void {
    const old = this.doc;
    const doc = old.forkAt(frontiers);
    this.rewait(doc);
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
    return this.waiting.size > 0;
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
