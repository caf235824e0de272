import type { MapDocument, Topic } from '@canopy/model';

/** Where a topic sits in the document. `parentId` is null for the central topic and for floating topics. */
export interface TopicEntry {
  readonly topic: Topic;
  readonly parentId: string | null;
  readonly index: number;
  readonly depth: number;
  /** The id of the root this topic hangs under: the central topic or one floating topic. */
  readonly treeRootId: string;
}

export type TopicIndex = ReadonlyMap<string, TopicEntry>;

/** Indexes every topic of the tree and of the floating trees by id. Iterative, so deep maps cannot overflow the stack. */
export function indexTopics(doc: MapDocument): TopicIndex {
  const index = new Map<string, TopicEntry>();
  const roots = [doc.root, ...doc.floating];
  for (const [i, root] of roots.entries()) {
    // A floating topic's index is its position in `doc.floating`.
    const stack: TopicEntry[] = [
      { topic: root, parentId: null, index: i === 0 ? 0 : i - 1, depth: 0, treeRootId: root.id },
    ];
    while (stack.length > 0) {
      const entry = stack.pop()!;
      index.set(entry.topic.id, entry);
      const { children } = entry.topic;
      for (let c = children.length - 1; c >= 0; c--) {
        stack.push({
          topic: children[c]!,
          parentId: entry.topic.id,
          index: c,
          depth: entry.depth + 1,
          treeRootId: entry.treeRootId,
        });
      }
    }
  }
  return index;
}

/** Counts the descendants of a topic (not the topic itself). */
export function countDescendants(topic: Topic): number {
  let count = 0;
  const stack: Topic[] = [...topic.children];
  while (stack.length > 0) {
    const t = stack.pop()!;
    count++;
    for (const c of t.children) stack.push(c);
  }
  return count;
}

/** The ids from the tree root down to `id`, inclusive. */
export function pathTo(index: TopicIndex, id: string): string[] {
  const path: string[] = [];
  let current: string | null = id;
  while (current !== null) {
    const entry = index.get(current);
    if (!entry) break;
    path.push(current);
    current = entry.parentId;
  }
  return path.reverse();
}
