/**
 * Keeps the JSON view of a map up to date from the document's change events, so that a keystroke does not cost a
 * full read of the document (reading a Loro tree into JS costs about 0.1 ms per topic).
 *
 * - A change inside a topic re-reads that topic's fields only; the structure is reused.
 * - A structural change (create, move, delete) is applied to the cached structure from the tree diff; the fields
 *   of created or moved subtrees are reread (a move can revive a deleted subtree whose data changed while it was
 *   deleted, which no event reported). What the diff cannot place (a node arriving with descendants) makes the
 *   view reread the structure: the tree's shallow value, O(topics) but cheaper than its deep value.
 * - Anything else (title, meta, relationships, the central id) re-reads the map level, which holds no topics.
 * The view is then reassembled in JS. Events fire on commit: inside an open batch the view falls back to a full read.
 */
import type { LoroDoc, LoroEventBatch, LoroMap, LoroTree, TreeDiffItem, TreeID } from 'loro-crdt';
import { ROOT_TOPICS, topicsTree } from './loro-layout.ts';
import {
  assembleDocument,
  readMapLevel,
  readNodeFields,
  type MapLevel,
  type NodeFields,
  type Projection,
  type RawTopicNode,
  type ViewNode,
} from './projection.ts';

export class DocumentView {
  private readonly tree: LoroTree;
  private readonly fields = new Map<TreeID, NodeFields>();
  private roots: ViewNode[] = [];
  private mapLevel: MapLevel | undefined;
  private current: Projection | undefined;
  private stale = true;
  private structureStale = false;
  private readonly placed = new Set<TreeID>();
  /** Where each node of `roots` sits, kept in step with tree diffs. */
  private readonly byId = new Map<TreeID, ViewNode>();
  private readonly parentOf = new Map<TreeID, TreeID | undefined>();
  private readonly edited = new Set<TreeID>();

  constructor(private readonly doc: LoroDoc) {
    this.tree = topicsTree(doc);
  }

  /** Lets go of the tree's handle (`MindMap.free`): until a handle is freed, Loro keeps its document. */
  free(): void {
    this.tree.free();
  }

  /** Records what a committed change touched. */
  note(batch: LoroEventBatch): void {
    this.current = undefined;
    for (const event of batch.events) {
      const [root, key] = event.path;
      if (root !== ROOT_TOPICS) {
        this.mapLevel = undefined;
      } else if (event.diff.type === 'tree') {
        for (const item of event.diff.diff) {
          if (item.action !== 'delete') this.placed.add(item.target);
          if (!this.stale && !this.structureStale && !this.applyTreeChange(item)) this.structureStale = true;
        }
      } else if (typeof key === 'string') {
        this.edited.add(key as TreeID);
      }
    }
  }

  /** Forgets everything: the next read is a full one. */
  invalidate(): void {
    this.current = undefined;
    this.stale = true;
  }

  get(): Projection {
    if (this.current) return this.current;
    if (this.stale) this.readAll();
    else this.readChanges();
    this.mapLevel ??= readMapLevel(this.doc);
    this.current = assembleDocument(this.roots, (node) => this.fields.get(node), this.mapLevel);
    return this.current;
  }

  /**
   * Applies one tree diff item to the cached structure; false when it cannot (the structure is then reread).
   * Items arrive in order, each against the state the previous one left. A node that comes with descendants
   * (a revived subtree, or one built in the same commit) is left to the reread.
   */
  private applyTreeChange(item: TreeDiffItem): boolean {
    if (item.action === 'delete') return this.detach(item.target, true) !== undefined;
    let node: ViewNode | undefined;
    if (item.action === 'move') {
      node = this.detach(item.target, false);
    } else if (
      !this.byId.has(item.target) &&
      (this.tree.getNodeByID(item.target)?.children()?.length ?? 0) === 0
    ) {
      node = { id: item.target, children: [] };
    }
    if (!node) return false;
    const siblings = item.parent === undefined ? this.roots : this.byId.get(item.parent)?.children;
    if (!siblings || item.index > siblings.length) return false;
    siblings.splice(item.index, 0, node);
    this.byId.set(node.id, node);
    this.parentOf.set(node.id, item.parent);
    return true;
  }

  private detach(id: TreeID, forget: boolean): ViewNode | undefined {
    const node = this.byId.get(id);
    if (!node || !this.parentOf.has(id)) return undefined;
    const parent = this.parentOf.get(id);
    const siblings = parent === undefined ? this.roots : this.byId.get(parent)?.children;
    const at = siblings?.indexOf(node) ?? -1;
    if (!siblings || at < 0) return undefined;
    siblings.splice(at, 1);
    if (forget) {
      const stack = [node];
      for (let gone = stack.pop(); gone; gone = stack.pop()) {
        this.byId.delete(gone.id);
        this.parentOf.delete(gone.id);
        this.fields.delete(gone.id);
        stack.push(...gone.children);
      }
    }
    return node;
  }

  private indexStructure(): void {
    this.byId.clear();
    this.parentOf.clear();
    const visit = (node: ViewNode, parent: TreeID | undefined): void => {
      this.byId.set(node.id, node);
      this.parentOf.set(node.id, parent);
      for (const child of node.children) visit(child, node.id);
    };
    for (const root of this.roots) visit(root, undefined);
  }

  private readAll(): void {
    const raw = this.tree.toJSON() as RawTopicNode[];
    this.fields.clear();
    const toView = (node: RawTopicNode): ViewNode => {
      const data = node.meta.richText === true ? this.dataOf(node.id) : undefined;
      this.fields.set(node.id, data ? readNodeFields(data, node.meta) : { meta: node.meta, runs: undefined });
      return { id: node.id, children: node.children.map(toView) };
    };
    this.roots = raw.map(toView);
    this.indexStructure();
    this.mapLevel = undefined;
    this.stale = false;
    this.structureStale = false;
    this.placed.clear();
    this.edited.clear();
  }

  private readChanges(): void {
    const refresh = new Set(this.edited);
    if (this.structureStale) {
      this.roots = toViewNodes(this.tree.getShallowValue());
      this.indexStructure();
      for (const id of this.fields.keys()) if (!this.byId.has(id)) this.fields.delete(id);
    }
    for (const id of this.placed) {
      const stack = [this.byId.get(id)];
      for (let node = stack.pop(); node; node = stack.pop()) {
        refresh.add(node.id);
        stack.push(...node.children);
      }
    }
    for (const id of refresh) {
      const data = this.dataOf(id);
      if (data) this.fields.set(id, readNodeFields(data));
      else this.fields.delete(id);
    }
    this.structureStale = false;
    this.placed.clear();
    this.edited.clear();
  }

  private dataOf(node: TreeID): LoroMap | undefined {
    const found = this.tree.getNodeByID(node);
    return found && !found.isDeleted() ? found.data : undefined;
  }
}

function toViewNodes(nodes: readonly { id: TreeID; children: readonly unknown[] }[]): ViewNode[] {
  return nodes.map((node) => ({
    id: node.id,
    children: toViewNodes(node.children as { id: TreeID; children: readonly unknown[] }[]),
  }));
}

/** A one-off read of the whole view. */
export function projectDocument(doc: LoroDoc): Projection {
  return new DocumentView(doc).get();
}
