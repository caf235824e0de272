import type { MapDocument, Topic } from '@canopy/model';
import { indexTopics, type TopicIndex } from '../document/topicIndex.ts';
import type { ChangeOptions, EditorStore, TopicDetails, TopicInsertOptions } from './editorStore.ts';

export interface MemoryEditorStoreOptions {
  /** Id generator, injectable so tests are deterministic. */
  newId?: () => string;
  /** Undo steps kept. */
  historyLimit?: number;
}

/**
 * An EditorStore over the plain JSON document, with path copying: a change rebuilds only the topics from the
 * root down to the changed one, so snapshots are cheap and undo is a stack of earlier snapshots.
 */
export class MemoryEditorStore implements EditorStore {
  private doc: MapDocument;
  private index: TopicIndex;
  private readonly undoStack: MapDocument[] = [];
  private redoStack: MapDocument[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly newId: () => string;
  private readonly historyLimit: number;

  constructor(doc: MapDocument, options: MemoryEditorStoreOptions = {}) {
    this.doc = doc;
    this.index = indexTopics(doc);
    this.newId = options.newId ?? (() => `t-${crypto.randomUUID()}`);
    this.historyLimit = options.historyLimit ?? 500;
  }

  getDocument = (): MapDocument => this.doc;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  addChild(parentId: string, options: TopicInsertOptions = {}): string {
    const parent = this.require(parentId);
    const id = this.newId();
    const at = clampIndex(options.index ?? parent.topic.children.length, parent.topic.children.length);
    const topic: Topic = { id, text: options.text ?? '', children: [] };
    this.commit(
      this.replaceTopic(parentId, (p) => ({
        ...p,
        collapsed: false,
        children: insertAt(p.children, at, topic),
      })),
      options,
    );
    return id;
  }

  addSibling(topicId: string, options: TopicInsertOptions & { before?: boolean } = {}): string {
    const entry = this.require(topicId);
    if (entry.parentId === null) throw new Error('the central topic and floating topics have no siblings');
    return this.addChild(entry.parentId, {
      ...options,
      index: entry.index + (options.before ? 0 : 1),
    });
  }

  insertBranches(parentId: string, branches: readonly Topic[], options: TopicInsertOptions = {}): string[] {
    const parent = this.require(parentId);
    if (branches.length === 0) return [];
    const copies = branches.map((b) => this.withFreshIds(b));
    const at = clampIndex(options.index ?? parent.topic.children.length, parent.topic.children.length);
    this.commit(
      this.replaceTopic(parentId, (p) => ({
        ...p,
        collapsed: false,
        children: [...p.children.slice(0, at), ...copies, ...p.children.slice(at)],
      })),
      options,
    );
    return copies.map((c) => c.id);
  }

  /** A deep copy with new ids everywhere (a pasted branch must not collide with the one it was copied from). */
  private withFreshIds(topic: Topic): Topic {
    const { position: _position, ...rest } = topic;
    return {
      ...rest,
      id: this.newId(),
      children: topic.children.map((c) => this.withFreshIds(c)),
      ...(topic.summaries
        ? {
            summaries: topic.summaries.map((s) => ({
              ...s,
              id: this.newId(),
              topic: this.withFreshIds(s.topic),
            })),
          }
        : {}),
      ...(topic.boundaries ? { boundaries: topic.boundaries.map((b) => ({ ...b, id: this.newId() })) } : {}),
    };
  }

  setText(topicId: string, text: string, options: ChangeOptions = {}): void {
    const { topic } = this.require(topicId);
    if (topic.text === text && !topic.richText) return;
    this.commit(
      this.replaceTopic(topicId, (t) => {
        const { richText: _dropped, ...rest } = t;
        return { ...rest, text };
      }),
      options,
    );
  }

  setCollapsed(topicId: string, collapsed: boolean, options: ChangeOptions = {}): void {
    const { topic } = this.require(topicId);
    if ((topic.collapsed ?? false) === collapsed || topic.children.length === 0) return;
    this.commit(
      this.replaceTopic(topicId, (t) => ({ ...t, collapsed })),
      options,
    );
  }

  setTopicDetails(topicId: string, details: TopicDetails, options: ChangeOptions = {}): void {
    this.require(topicId);
    this.commit(
      this.replaceTopic(topicId, (t) => {
        const next: Topic = { ...t };
        for (const key of Object.keys(details) as (keyof TopicDetails)[]) {
          if (details[key] === undefined) delete next[key];
          else Object.assign(next, { [key]: details[key] });
        }
        return next;
      }),
      options,
    );
  }

  remove(topicIds: readonly string[], options: ChangeOptions = {}): void {
    const doomed = new Set<string>();
    for (const id of topicIds) {
      const entry = this.index.get(id);
      if (!entry || id === this.doc.root.id) continue;
      doomed.add(id);
    }
    if (doomed.size === 0) return;
    let doc = this.doc;
    for (const id of doomed) {
      const entry = indexTopics(doc).get(id);
      if (!entry) continue; // already gone with an ancestor
      if (entry.parentId === null) {
        doc = { ...doc, floating: doc.floating.filter((t) => t.id !== id) };
      } else {
        doc = replaceIn(doc, indexTopics(doc), entry.parentId, (p) => ({
          ...p,
          children: p.children.filter((c) => c.id !== id),
        }));
      }
    }
    const remaining = indexTopics(doc);
    const relationships = doc.relationships.filter((r) => remaining.has(r.fromId) && remaining.has(r.toId));
    if (relationships.length !== doc.relationships.length) doc = { ...doc, relationships };
    this.commit(doc, options);
  }

  move(topicId: string, parentId: string, index: number, options: ChangeOptions = {}): boolean {
    const entry = this.require(topicId);
    this.require(parentId);
    if (topicId === this.doc.root.id) return false;
    for (let p: string | null = parentId; p !== null; p = this.index.get(p)?.parentId ?? null) {
      if (p === topicId) return false;
    }
    let doc = this.doc;
    if (entry.parentId === null) {
      doc = { ...doc, floating: doc.floating.filter((t) => t.id !== topicId) };
    } else {
      doc = replaceIn(doc, this.index, entry.parentId, (p) => ({
        ...p,
        children: p.children.filter((c) => c.id !== topicId),
      }));
    }
    const { position: _position, ...moved } = entry.topic;
    const afterRemoval = indexTopics(doc);
    const target = afterRemoval.get(parentId)!;
    const adjusted = entry.parentId === parentId && entry.index < index ? index - 1 : index;
    const at = clampIndex(adjusted, target.topic.children.length);
    doc = replaceIn(doc, afterRemoval, parentId, (p) => ({
      ...p,
      children: insertAt(p.children, at, moved),
    }));
    this.commit(doc, options);
    return true;
  }

  canUndo = (): boolean => this.undoStack.length > 0;
  canRedo = (): boolean => this.redoStack.length > 0;

  undo(): void {
    const previous = this.undoStack.pop();
    if (!previous) return;
    this.redoStack.push(this.doc);
    this.setDoc(previous);
  }

  redo(): void {
    const next = this.redoStack.pop();
    if (!next) return;
    this.undoStack.push(this.doc);
    this.setDoc(next);
  }

  private require(id: string) {
    const entry = this.index.get(id);
    if (!entry) throw new Error(`unknown topic ${id}`);
    return entry;
  }

  private replaceTopic(id: string, update: (topic: Topic) => Topic): MapDocument {
    return replaceIn(this.doc, this.index, id, update);
  }

  private commit(next: MapDocument, options: ChangeOptions): void {
    if (next === this.doc) return;
    if (!options.amend || this.undoStack.length === 0) {
      this.undoStack.push(this.doc);
      if (this.undoStack.length > this.historyLimit) this.undoStack.shift();
    }
    this.redoStack = [];
    this.setDoc(next);
  }

  private setDoc(doc: MapDocument): void {
    this.doc = doc;
    this.index = indexTopics(doc);
    for (const listener of [...this.listeners]) listener();
  }
}

/** Rebuilds the path from the tree root to `id`, applying `update` to that topic. */
function replaceIn(
  doc: MapDocument,
  index: TopicIndex,
  id: string,
  update: (topic: Topic) => Topic,
): MapDocument {
  const entry = index.get(id);
  if (!entry) throw new Error(`unknown topic ${id}`);
  let replaced = update(entry.topic);
  let current = entry;
  while (current.parentId !== null) {
    const parent = index.get(current.parentId)!;
    const children = parent.topic.children.slice();
    children[current.index] = replaced;
    replaced = { ...parent.topic, children };
    current = parent;
  }
  if (current.topic.id === doc.root.id) return { ...doc, root: replaced };
  const floating = doc.floating.slice();
  floating[current.index] = replaced;
  return { ...doc, floating };
}

function insertAt<T>(items: readonly T[], at: number, item: T): T[] {
  return [...items.slice(0, at), item, ...items.slice(at)];
}

function clampIndex(index: number, length: number): number {
  return Math.max(0, Math.min(length, Math.trunc(index)));
}
