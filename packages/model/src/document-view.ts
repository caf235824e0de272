/**
 * Keeps the JSON view of a map up to date from the document's change events, so that a keystroke does not cost a
 * full read of the document (reading a Loro tree into JS costs about 0.1 ms per topic).
 *
 * - A change inside a topic re-reads that topic's fields only; the structure is reused.
 * - A structural change (create, move, delete) re-reads the structure (the tree's shallow value, cheaper than its
 *   deep one) and the fields of the created or moved subtrees: a move can revive a deleted subtree whose data
 *   changed while it was deleted, when no event reported it.
 * - Anything else (title, meta, relationships, the central id) re-reads the map level, which holds no topics.
 * The view is then reassembled in JS. Events fire on commit: inside an open batch the view falls back to a full read.
 */
import type { LoroDoc, LoroEventBatch, LoroMap, LoroTree, TreeID } from 'loro-crdt';
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
  private readonly edited = new Set<TreeID>();

  constructor(private readonly doc: LoroDoc) {
    this.tree = topicsTree(doc);
  }

  /** Records what a committed change touched. */
  note(batch: LoroEventBatch): void {
    this.current = undefined;
    for (const event of batch.events) {
      const [root, key] = event.path;
      if (root !== ROOT_TOPICS) {
        this.mapLevel = undefined;
      } else if (event.diff.type === 'tree') {
        this.structureStale = true;
        for (const item of event.diff.diff) if (item.action !== 'delete') this.placed.add(item.target);
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

  private readAll(): void {
    const raw = this.tree.toJSON() as RawTopicNode[];
    this.fields.clear();
    const toView = (node: RawTopicNode): ViewNode => {
      const data = node.meta.richText === true ? this.dataOf(node.id) : undefined;
      this.fields.set(node.id, data ? readNodeFields(data, node.meta) : { meta: node.meta, runs: undefined });
      return { id: node.id, children: node.children.map(toView) };
    };
    this.roots = raw.map(toView);
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
      const byId = new Map<TreeID, ViewNode>();
      const index = (node: ViewNode): void => {
        byId.set(node.id, node);
        node.children.forEach(index);
      };
      this.roots.forEach(index);
      for (const id of this.placed) {
        const stack = [byId.get(id)];
        for (let node = stack.pop(); node; node = stack.pop()) {
          refresh.add(node.id);
          stack.push(...node.children);
        }
      }
      for (const id of this.fields.keys()) if (!byId.has(id)) this.fields.delete(id);
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
