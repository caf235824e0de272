/**
 * `ServerReplica`: a map as a co-editing server holds it. It admits, stores and serves updates; it has no JSON
 * view, no undo and no editing operations (a `MindMap` is built from it when one is needed).
 *
 * It admits an update exactly as `MindMap.importUpdates` does (the state the update leads to must pass
 * validation, checked only where the update changed something), but on one Loro document instead of a map
 * plus a shadow copy: the update goes straight in, and if the state it leads to is refused the document is
 * forked back to the version before it. Nobody reads this document between the import and the check, so the
 * invalid state is never seen.
 *
 * The document stays detached: an import adds to its log only (~0.03 ms with 50 peers), and its state follows
 * later (`settle`, which a server calls when idle: ~0.12 ms for one update, most of a server's work per edit,
 * now off the path from an edit's arrival to its broadcast). An update made only of typing is admitted from
 * its operations alone: one change inserting into and deleting from texts this replica has already checked (a
 * topic's text or notes, or the title) at positions they have, within their limits, that saw those texts as
 * they stand (it follows the latest version, or builds on each text's last change). Anything else (new topics,
 * moves, fields, style marks, a text not seen yet, typing concurrent with typing in the same text) brings the
 * state up to date and is checked on it. Whatever reads the state (`exportSnapshot`, `title`,
 * `toMindMap`) settles first.
 */
import {
  LoroDoc,
  LoroText,
  type ContainerID,
  type Frontiers,
  type ImportStatus,
  type JsonChange,
  type LoroEventBatch,
  type OpId,
  type PeerID,
  type VersionVector,
} from 'loro-crdt';
import { fail, ok, type ModelResult } from './errors.ts';
import { acceptLoadedDoc, exportUpdatesFrom } from './doc-io.ts';
import { MAX_SNAPSHOT_BYTES, MAX_TITLE_LENGTH, MAX_UPDATE_BYTES } from './limits.ts';
import { keepLoroHeadroom } from './loro-heap.ts';
import { ROOT_TITLE, configureDoc, countLiveTopics, topicsTree } from './loro-layout.ts';
import { MindMap } from './mind-map.ts';
import { validateState } from './state-validation.ts';
import {
  codePoints,
  collectTexts,
  followsExactly,
  opIds,
  typedInto,
  VersionSteps,
  type CheckedText,
} from './typing-check.ts';
import { collectScope, newScope, summaryOf, type ImportSummary } from './update-gate.ts';
import { updateNeeds, WaitingUpdates, type UpdateNeeds } from './waiting-updates.ts';

export type { UpdateNeeds } from './waiting-updates.ts';

/** A server that never idles settles after this many updates admitted as typing. */
const MAX_UNSETTLED = 32;
/** Typing comes in small updates: larger ones go straight to the check (their operations are not listed). */
const MAX_TYPING_BYTES = 4096;

export class ServerReplica {
  private doc!: LoroDoc;
  /** Upper bound on live topics (the topic cap), as in the update gate. */
  private topicBound = 0;
  /** Admitted updates that wait (in Loro's log) for updates they depend on. */
  private readonly waiting = new WaitingUpdates();
  /** The log's version after each update admitted as typing whose change the state does not show yet. */
  private unsettled: Frontiers[] = [];
  /** Texts a checked state holds (by container id): typing into them is admitted from its operations. */
  private checkedTexts = new Map<ContainerID, CheckedText>();
  private migratedOnLoad = false;
  /** The log's version vector, per peer the counter it reaches, kept in step with the imports (`waitsFor`). */
  private version = new Map<PeerID, number>();
  /** Imports that added to the log so far: the log's versions are numbered by it. */
  private step = 0;
  /** The step at which each of the log's latest versions was its latest. */
  private readonly steps = new VersionSteps();

  private constructor(doc: LoroDoc) {
    this.waiting.load(doc);
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
    const replica = new ServerReplica(doc);
    replica.migratedOnLoad = migrated.value.from < migrated.value.to;
    return ok(replica);
  }

  /** A replica holding what `map` holds (a map loaded from storage, hence valid). */
  static fromMap(map: MindMap): ServerReplica {
    const doc = new LoroDoc();
    doc.import(map.exportSnapshot());
    return new ServerReplica(doc);
  }

  private attach(doc: LoroDoc): void {
    configureDoc(doc);
    this.doc = doc;
    this.topicBound = countLiveTopics(topicsTree(doc));
    this.unsettled = [];
    this.checkedTexts.clear();
    this.version = doc.oplogVersion().toJSON();
    this.steps.clear();
    const frontiers = doc.oplogFrontiers();
    this.steps.note(frontiers, this.step);
    const title = doc.getText(ROOT_TITLE);
    this.checkedTexts.set(title.id, {
      limit: MAX_TITLE_LENGTH,
      points: codePoints(title.toString()),
      units: title.length,
      changedAt: frontiers,
      changedStep: this.step,
    });
    // From here on imports add to the log only; `settle` and `check` move the state.
    doc.detach();
  }

  /** What an update needs in the log before it can apply (`updateNeeds`). */
  needsOf(bytes: Uint8Array): UpdateNeeds | undefined {
    return updateNeeds(bytes);
  }

  /**
   * Whether an update with these needs would wait for others if imported now: its own peers' operations do
   * not continue the log's, or a change it builds on is not in the log. Loro keeps such an update aside and
   * applies it together with the one that releases it, and a state move over changes applied together costs
   * several ms (an unsettled typing step cannot stop between them: `settle`). A server that holds such an
   * update back until what it needs has arrived imports each on its own (R9).
   */
  waitsFor(needs: UpdateNeeds): boolean {
    for (const [peer, counter] of needs.starts) if ((this.version.get(peer) ?? 0) < counter) return true;
    for (const { peer, counter } of needs.deps) if ((this.version.get(peer) ?? 0) <= counter) return true;
    return false;
  }

  /** `MindMap.importUpdates` for each update in order: a refused one changes nothing and the rest still apply. */
  importUpdateBatch(updates: readonly Uint8Array[]): ModelResult<ImportSummary>[] {
    const results = updates.map((bytes) => this.admit(bytes));
    keepLoroHeadroom();
    return results;
  }

  private admit(bytes: unknown): ModelResult<ImportSummary> {
    if (!(bytes instanceof Uint8Array)) return fail('malformed-update', 'an update must be a Uint8Array');
    if (bytes.byteLength > MAX_UPDATE_BYTES) {
      return fail('limit-exceeded', `update of ${bytes.byteLength} bytes exceeds ${MAX_UPDATE_BYTES}`);
    }
    const before = this.doc.oplogFrontiers();
    let status;
    try {
      status = this.doc.import(bytes);
    } catch (error) {
      this.forkBack(before);
      return fail('malformed-update', `not a Loro update: ${String(error).slice(0, 200)}`);
    }
    for (const [peer, span] of status.success)
      if (span.end > (this.version.get(peer) ?? 0)) this.version.set(peer, span.end);
    // Nothing applied (a duplicate, or all of it waits for its dependencies): checked when it applies.
    if (status.success.size > 0) {
      // Typing comes in small updates; a large one is checked without listing its operations, in one step.
      const changes = bytes.byteLength <= MAX_TYPING_BYTES ? this.appliedChanges(status) : undefined;
      const typed = changes && this.typingOnly(changes, before);
      this.step++;
      if (typed) {
        const [peer] = status.success.keys();
        const changedAt = [{ peer: peer!, counter: (this.version.get(peer!) ?? 1) - 1 }];
        const changedStep = this.step;
        for (const [text, { points, units }] of typed)
          Object.assign(text, { points, units, changedAt, changedStep });
        const frontiers = this.doc.oplogFrontiers();
        this.unsettled.push(frontiers);
        this.steps.note(frontiers, this.step);
        // A server that never idles still settles, every so many updates.
        if (this.unsettled.length >= MAX_UNSETTLED) this.settle();
      } else {
        const refused = this.check(changes);
        if (refused) {
          this.forkBack(before);
          return refused;
        }
      }
    }
    const summary = summaryOf(status);
    this.waiting.imported(this.doc, bytes, status);
    return ok(summary);
  }

  /** The changes an import applied, per peer in counter order, as Loro's JSON shows them. */
  private appliedChanges(status: ImportStatus): Map<PeerID, JsonChange[]> {
    const changes = new Map<PeerID, JsonChange[]>();
    for (const [peer, span] of status.success)
      changes.set(
        peer,
        this.doc.exportJsonInIdSpan({ peer, counter: span.start, length: span.end - span.start }),
      );
    return changes;
  }

  /**
   * When the import applied one change made only of typing into checked texts at positions that exist, within
   * their limits, and it saw those texts as they stand: the texts' new lengths. Otherwise undefined (the state
   * must be checked). It saw them as they stand when it follows the version before it, or when it builds on
   * each text's last change (typing concurrent with changes elsewhere: other people typing in other topics).
   * The positions matter: Loro takes an operation at a position a text does not have into its log, and only
   * fails when the state is moved over it (at `settle`, after the update was acknowledged).
   */
  private typingOnly(
    changes: Map<PeerID, JsonChange[]>,
    before: Frontiers,
  ): Map<CheckedText, { points: number; units: number }> | undefined {
    const [list, ...others] = [...changes.values()];
    const change = list?.length === 1 && others.length === 0 ? list[0] : undefined;
    if (!change) return undefined;
    // Whether the change saw a text as it stands: always, when it follows the version before it. Else when it
    // depends on a version the log had at a step by which the text's last change was in it (a client that
    // has not yet heard the latest updates). Else a dependency of the same peer at or after each of the text's
    // last operations shows it at once (a peer's operations form a chain in Loro's versions): two people's
    // typing that crossed in flight, each keystroke depending on its author's last one. Only failing all that
    // is the version it saw made a version vector (`frontiersToVV` walks the history: ~0.1 ms with 50 authors
    // interleaved).
    let seen: VersionVector | undefined;
    let saw: ((text: CheckedText) => boolean) | undefined;
    if (!followsExactly(change.deps, before)) {
      const deps = opIds(change.deps);
      const depsStep = this.steps.of(change.deps);
      const sawOp = ({ peer, counter }: OpId) =>
        deps.some((d) => d.peer === peer && d.counter >= counter) ||
        ((seen ??= this.doc.frontiersToVV(deps)).get(peer) ?? 0) > counter;
      saw = (text) => (depsStep !== undefined && text.changedStep <= depsStep) || text.changedAt.every(sawOp);
    }
    try {
      const lengths = new Map<CheckedText, { points: number; units: number }>();
      for (const op of change.ops) {
        const text = this.checkedTexts.get(op.container);
        if (!text) return undefined;
        if (saw && !saw(text)) return undefined;
        const length = lengths.get(text) ?? { points: text.points, units: text.units };
        if (!typedInto(length, text.limit, op.content)) return undefined;
        lengths.set(text, length);
      }
      return lengths;
    } finally {
      seen?.free();
    }
  }

  /**
   * Brings the state up to the log's latest version and checks what changed since the last settled one.
   * Returns the refusal, if any; with none, the texts the change touched become checked texts.
   */
  private check(changes: Map<PeerID, JsonChange[]> | undefined): ModelResult<never> | undefined {
    const steps = this.unsettled;
    this.unsettled = [];
    // The texts this change writes to are measured again below (if the state still shows them); when its
    // operations were not listed, all of them.
    if (!changes) this.checkedTexts.clear();
    else
      for (const list of changes.values())
        for (const c of list) for (const op of c.ops) this.checkedTexts.delete(op.container);
    const scope = newScope(this.topicBound);
    const touched: { id: ContainerID; limit: number }[] = [];
    // Subscribed only here: events cost a third of a state change, and only a check reads them.
    let unsubscribe: (() => void) | undefined;
    try {
      // Typing admitted since the last settled version first, unwatched (it was checked as typing) and one
      // step each, as `settle` moves it: over it and this change at once Loro would take its slow path (~5 ms).
      for (const step of steps) this.doc.checkout(step);
      unsubscribe = this.doc.subscribe((batch: LoroEventBatch) => {
        collectScope(scope, batch);
        collectTexts(touched, batch);
      });
      this.doc.checkout(this.doc.oplogFrontiers());
    } catch (error) {
      // Operations the log took that the state cannot (a position a text does not have, say).
      return fail('malformed-update', `not a valid Loro update: ${String(error).slice(0, 200)}`);
    } finally {
      unsubscribe?.();
    }
    const problems = validateState(this.doc, scope);
    if (problems.length > 0)
      return fail('schema-violation', `update refused: ${problems[0] ?? ''}`, problems);
    this.topicBound = scope.topicBound;
    const changedAt = this.doc.oplogFrontiers();
    this.steps.note(changedAt, this.step);
    for (const { id, limit } of touched) {
      const text = this.doc.getContainerById(id);
      if (text instanceof LoroText)
        this.checkedTexts.set(id, {
          limit,
          points: codePoints(text.toString()),
          units: text.length,
          changedAt,
          changedStep: this.step,
        });
    }
    return undefined;
  }

  /**
   * Brings the state up to the log's latest version, one admitted update at a time. A server calls this when
   * idle; whatever reads the state settles first. One change at a time because Loro moves a detached state
   * over one change that follows it in ~0.1 ms, and over several at once on a general path that costs several
   * ms (whatever their number). Each step's version is the log's latest as the update was admitted, so no
   * step lands inside a group of changes released together: Loro's first checkout of such a version walks the
   * whole history (tens of ms on a long-lived map).
   */
  settle(): void {
    for (const step of this.unsettled) this.doc.checkout(step);
    this.unsettled = [];
    keepLoroHeadroom();
  }

  /**
   * The state as it stands, not settled first, as Loro's JSON value. For tests: a snapshot always holds the
   * log's latest state, so only this shows whether the state the checks read follows the log.
   */
  stateValue(): unknown {
    return this.doc.toJSON();
  }

  /**
   * Whether loading migrated the stored map to the current schema: the replica then holds operations (the
   * migration's) that are in neither the stored snapshot nor the log, so a copy made from those differs.
   */
  get migrated(): boolean {
    return this.migratedOnLoad;
  }

  /** How many updates admitted as typing wait for `settle`. */
  get unsettledCount(): number {
    return this.unsettled.length;
  }

  /** Back to the version before a refused update, with the updates that were waiting then still waiting. */
  private forkBack(frontiers: ReturnType<LoroDoc['oplogFrontiers']>): void {
    const old = this.doc;
    const doc = old.forkAt(frontiers);
    this.waiting.reimport(doc);
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
    this.settle();
    const snapshot = this.doc.export({ mode: 'snapshot' });
    this.reload(snapshot);
    return snapshot;
  }

  /**
   * Continues on a document loaded from `snapshot` (what this one holds). Once Loro has exported a snapshot of
   * a document, its imports take the state's share of the work even detached (~0.13 ms instead of ~0.03 ms with
   * 50 peers): the deferral `settle` is for would be lost after the first compaction. Loading costs a few ms,
   * about what the export itself costs. What waits for its dependencies is not in a snapshot: imported again.
   */
  private reload(snapshot: Uint8Array): void {
    const doc = new LoroDoc();
    doc.import(snapshot);
    this.waiting.reimport(doc);
    configureDoc(doc);
    doc.detach();
    this.doc.free();
    this.doc = doc;
    this.version = doc.oplogVersion().toJSON();
  }

  /** Whether some imported updates still wait for updates they depend on (a snapshot would leave them out). */
  hasPendingUpdates(): boolean {
    return this.waiting.any;
  }

  /** The map's title, as `toJSON().title` of a `MindMap` would read it. */
  title(): string {
    this.settle();
    return this.doc.getText(ROOT_TITLE).toString();
  }

  /** A `MindMap` holding the same state (for its JSON view; O(document)). */
  toMindMap(): MindMap {
    const opened = MindMap.fromSnapshot(this.exportSnapshot());
    if (!opened.ok) throw opened.error;
    return opened.value;
  }
}
