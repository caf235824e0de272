import type { MapDocument, MindMap, Topic, TopicFields } from '@canopy/model';
import type { ChangeOptions, EditorStore, TopicDetails, TopicInsertOptions } from './editorStore.ts';
import { firstSnapshot, shareUnchanged, type SharedSnapshot } from './sharedSnapshot.ts';

/** Undo steps the model keeps (MindMapOptions.maxUndoSteps); the store's groups never reach past them. */
export const COLLAB_UNDO_STEPS = 500;

/**
 * An EditorStore over a `MindMap` replica (packages/model), which a `CollabClient` keeps in step with the map's
 * room: local operations become Loro updates the client sends, and imported remote updates show at once.
 *
 * Undo is the model's (Loro's UndoManager): it reverts only this replica's operations and leaves other people's
 * work alone. The model has one undo step per commit; `amend` is layered on top here as groups of model steps,
 * so undo of a "create then name" gesture reverts both commits.
 *
 * Snapshots share unchanged topics with the previous one (sharedSnapshot.ts), so the renderer's per-topic caches
 * survive remote edits as they do local ones.
 *
 * A change to a topic someone else has just deleted (a text being typed, a drag in flight) is ignored, and such a
 * move returns false: in co-editing that race is normal, not a caller's mistake. Adding under a missing parent
 * still throws, as in the memory store.
 */
export class CollabEditorStore implements EditorStore {
  private snapshot: SharedSnapshot;
  private stale = false;
  /** Model undo steps per undo group, oldest first. */
  private readonly undoGroups: number[] = [];
  private redoGroups: number[] = [];
  private localCommits = 0;
  private readOnly = false;
  private readonly listeners = new Set<() => void>();
  private readonly unsubscribe: () => void;

  constructor(private readonly map: MindMap) {
    this.snapshot = firstSnapshot(map.toJSON());
    this.unsubscribe = map.subscribe((change) => {
      if (change.source === 'local') this.localCommits++;
      this.stale = true;
      for (const listener of [...this.listeners]) listener();
    });
  }

  /**
   * Stops following the map (the page closed): from here on the store answers from its last snapshot and never
   * reads the map, which its session then frees.
   */
  dispose(): void {
    this.getDocument();
    this.unsubscribe();
    this.listeners.clear();
  }

  /** A viewer's store: every operation throws; the editor does not offer them. */
  setReadOnly(readOnly: boolean): void {
    if (readOnly === this.readOnly) return;
    this.readOnly = readOnly;
    for (const listener of [...this.listeners]) listener();
  }

  isReadOnly(): boolean {
    return this.readOnly;
  }

  getDocument = (): MapDocument => {
    if (this.stale) {
      this.stale = false;
      this.snapshot = shareUnchanged(this.snapshot, this.map.toJSON());
    }
    return this.snapshot.doc;
  };

  /** One topic of the current snapshot (summary topics included), without indexing the whole map. */
  topic(id: string): Topic | undefined {
    this.getDocument();
    return this.snapshot.topics.get(id);
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  addChild(parentId: string, options: TopicInsertOptions = {}): string {
    const parent = this.require(parentId);
    return this.change(options, () => {
      if (parent.collapsed) this.map.setCollapsed(parentId, false);
      return this.map.addTopic(parentId, options.index, { text: options.text ?? '' });
    });
  }

  addSibling(topicId: string, options: TopicInsertOptions & { before?: boolean } = {}): string {
    const place = this.placeOf(topicId);
    if (!place) throw new Error('the central topic and floating topics have no siblings');
    return this.addChild(place.parent.id, { ...options, index: place.index + (options.before ? 0 : 1) });
  }

  setText(topicId: string, text: string, options: ChangeOptions = {}): void {
    const topic = this.topic(topicId);
    if (!topic || (topic.text === text && !topic.richText)) return;
    this.change(options, () =>
      this.map.setFields(topicId, topic.richText ? { text, richText: undefined } : { text }),
    );
  }

  setCollapsed(topicId: string, collapsed: boolean, options: ChangeOptions = {}): void {
    const topic = this.topic(topicId);
    if (!topic || (topic.collapsed ?? false) === collapsed || topic.children.length === 0) return;
    this.change(options, () => this.map.setCollapsed(topicId, collapsed));
  }

  setTopicDetails(topicId: string, details: TopicDetails, options: ChangeOptions = {}): void {
    if (!this.topic(topicId)) return;
    this.change(options, () => this.map.setFields(topicId, details));
  }

  remove(topicIds: readonly string[], options: ChangeOptions = {}): void {
    const doc = this.getDocument();
    const doomed = topicIds.filter((id) => id !== doc.root.id && this.snapshot.topics.has(id));
    if (doomed.length === 0) return;
    this.change(options, () => {
      const gone = new Set<string>();
      for (const id of doomed) {
        // An id inside a subtree removed just before is already gone.
        if (!this.map.hasTopic(id)) continue;
        collectIds(this.snapshot.topics.get(id)!, gone);
        this.map.deleteTopic(id);
      }
      // Relationships touching removed topics go in the same step, so that undo brings them back together.
      for (const r of doc.relationships) {
        if (gone.has(r.fromId) || gone.has(r.toId)) this.map.removeRelationship(r.id);
      }
    });
  }

  insertBranches(parentId: string, branches: readonly Topic[], options: TopicInsertOptions = {}): string[] {
    const parent = this.require(parentId);
    if (branches.length === 0) return [];
    const at = options.index ?? parent.children.length;
    return this.change(
      options,
      () => {
        if (parent.collapsed) this.map.setCollapsed(parentId, false);
        return branches.map((branch, i) => this.insertCopy(parentId, at + i, branch));
      },
      true,
    );
  }

  move(topicId: string, parentId: string, index: number, options: ChangeOptions = {}): boolean {
    if (!this.topic(topicId) || !this.topic(parentId)) return false;
    const doc = this.getDocument();
    if (topicId === doc.root.id) return false;
    for (let p: string | undefined = parentId; p !== undefined; p = this.placeOf(p)?.parent.id) {
      if (p === topicId) return false;
    }
    // The editor's index counts the moved topic where it stands; the model's counts the siblings without it.
    const place = this.placeOf(topicId);
    const adjusted = place?.parent.id === parentId && place.index < index ? index - 1 : index;
    this.change(options, () => this.map.moveTopic(topicId, parentId, Math.max(0, Math.trunc(adjusted))));
    return true;
  }

  canUndo = (): boolean => this.undoGroups.length > 0 && this.map.canUndo();
  canRedo = (): boolean => this.redoGroups.length > 0 && this.map.canRedo();

  undo(): void {
    this.assertWritable();
    const steps = this.undoGroups.pop();
    if (steps === undefined) return;
    for (let i = 0; i < steps; i++) this.map.undo();
    this.redoGroups.push(steps);
  }

  redo(): void {
    this.assertWritable();
    const steps = this.redoGroups.pop();
    if (steps === undefined) return;
    for (let i = 0; i < steps; i++) this.map.redo();
    this.undoGroups.push(steps);
  }

  // ---- helpers -------------------------------------------------------------------------------------------

  /**
   * Runs one editor operation and files the model commits it made as one undo group (or into the previous one
   * with `amend`). An operation that changed nothing makes no commit and no group.
   *
   * Operations are not run in a model batch unless asked: inside a batch the model's view falls back to a full
   * re-read of the document (about 0.1 ms per topic), which would cost a keystroke hundreds of ms on a big map.
   * A batch is for bulk work (paste), where one update instead of hundreds keeps under the room's rate limit.
   */
  private change<T>(options: ChangeOptions, operation: () => T, batch = false): T {
    this.assertWritable();
    const before = this.localCommits;
    const result = batch ? this.map.batch(operation) : operation();
    const made = this.localCommits - before;
    if (made > 0) {
      const last = this.undoGroups.length - 1;
      if (options.amend && last >= 0) this.undoGroups[last]! += made;
      else this.undoGroups.push(made);
      this.redoGroups = [];
      this.trimUndoGroups();
    }
    return result;
  }

  /** Drops the oldest groups once they would reach past the steps the model still holds. */
  private trimUndoGroups(): void {
    let total = this.undoGroups.reduce((sum, n) => sum + n, 0);
    while (total > COLLAB_UNDO_STEPS && this.undoGroups.length > 0) total -= this.undoGroups.shift()!;
  }

  private insertCopy(parentId: string, index: number, branch: Topic): string {
    const id = this.map.addTopic(parentId, index, copyableFields(branch));
    branch.children.forEach((child, i) => this.insertCopy(id, i, child));
    for (const boundary of branch.boundaries ?? []) {
      const { id: _old, ...rest } = boundary;
      this.map.addBoundary(id, rest);
    }
    for (const summary of branch.summaries ?? []) {
      const made = this.map.addSummary(id, summary.range, copyableFields(summary.topic));
      summary.topic.children.forEach((child, i) => this.insertCopy(made.topicId, i, child));
    }
    return id;
  }

  private require(id: string): Topic {
    this.getDocument();
    const topic = this.snapshot.topics.get(id);
    if (!topic) throw new Error(`unknown topic ${id}`);
    return topic;
  }

  /** A topic's parent and its index among the parent's children; undefined for central and floating topics. */
  private placeOf(id: string): { parent: Topic; index: number } | undefined {
    this.getDocument();
    const parentId = this.parents().get(id);
    const parent = parentId === undefined ? undefined : this.snapshot.topics.get(parentId);
    if (!parent) return undefined;
    return { parent, index: parent.children.findIndex((c) => c.id === id) };
  }

  private parentsOf: { doc: MapDocument; parents: Map<string, string> } | undefined;

  /** Child id to parent id for the current snapshot (children only: summaries have no siblings here). */
  private parents(): Map<string, string> {
    const doc = this.snapshot.doc;
    if (this.parentsOf?.doc !== doc) {
      const parents = new Map<string, string>();
      for (const topic of this.snapshot.topics.values()) {
        for (const child of topic.children) parents.set(child.id, topic.id);
      }
      this.parentsOf = { doc, parents };
    }
    return this.parentsOf.parents;
  }

  private assertWritable(): void {
    if (this.readOnly) throw new Error('this map is read-only for you');
  }
}

/** A topic's own fields as the model takes them: no id, structure or free position. */
function copyableFields(topic: Topic): TopicFields {
  const {
    id: _id,
    children: _children,
    summaries: _summaries,
    boundaries: _boundaries,
    position: _p,
    ...fields
  } = topic;
  return fields;
}

function collectIds(topic: Topic, into: Set<string>): void {
  const stack = [topic];
  for (let t = stack.pop(); t; t = stack.pop()) {
    into.add(t.id);
    stack.push(...t.children, ...(t.summaries ?? []).map((s) => s.topic));
  }
}
