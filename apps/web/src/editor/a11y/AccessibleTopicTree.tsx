import type { KeyboardEvent } from 'react';
import type { MapDocument } from '@canopy/model';
import { pathTo, type TopicIndex } from '../document/topicIndex.ts';

export function treeItemId(topicId: string): string {
  return `topic-${encodeURIComponent(topicId)}`;
}

interface Props {
  readonly doc: MapDocument;
  readonly index: TopicIndex;
  readonly selectedId: string;
  readonly label: string;
  /** Id of the element that explains the keys. */
  readonly describedBy?: string;
  readonly onKeyDown: (event: KeyboardEvent<HTMLDivElement>) => void;
  readonly treeRef: (element: HTMLDivElement | null) => void;
}

/**
 * The map as an ARIA tree for keyboard and screen-reader users, parallel to the canvas (which is hidden from
 * assistive technology). The tree element holds the focus and points at the selected topic with
 * aria-activedescendant. To stay cheap on 10,000-topic maps it is virtualised: it renders only the path to the
 * selection, the selection's siblings and its children, each with aria-level, aria-posinset and aria-setsize,
 * so the position is announced as if the whole tree were there.
 */
export function AccessibleTopicTree({
  doc,
  index,
  selectedId,
  label,
  describedBy,
  onKeyDown,
  treeRef,
}: Props) {
  const path = pathTo(index, selectedId);
  const selected = index.get(selectedId);
  const items: { id: string; level: number }[] = [];
  const shown = new Set<string>();
  const add = (id: string, level: number) => {
    if (shown.has(id)) return;
    shown.add(id);
    items.push({ id, level });
  };
  for (const [depth, id] of path.entries()) {
    if (id === selectedId && selected?.parentId) {
      const parent = index.get(selected.parentId)!;
      for (const sibling of parent.topic.children) add(sibling.id, depth + 1);
    } else {
      add(id, depth + 1);
    }
  }
  if (selected && !selected.topic.collapsed) {
    const at = items.findIndex((i) => i.id === selectedId);
    const kids = selected.topic.children.map((c) => ({ id: c.id, level: selected.depth + 2 }));
    items.splice(at + 1, 0, ...kids);
  }
  return (
    <div
      ref={treeRef}
      className="topic-tree"
      role="tree"
      aria-label={label}
      aria-describedby={describedBy}
      aria-activedescendant={treeItemId(selectedId)}
      tabIndex={0}
      onKeyDown={onKeyDown}
    >
      {items.map(({ id, level }) => {
        const entry = index.get(id);
        if (!entry) return null;
        const siblings =
          entry.parentId === null
            ? 1 + doc.floating.length
            : index.get(entry.parentId)!.topic.children.length;
        const hasChildren = entry.topic.children.length > 0;
        return (
          <div
            key={id}
            id={treeItemId(id)}
            role="treeitem"
            aria-level={level}
            aria-posinset={
              entry.parentId === null
                ? entry.topic.id === doc.root.id
                  ? 1
                  : entry.index + 2
                : entry.index + 1
            }
            aria-setsize={siblings}
            aria-selected={id === selectedId}
            aria-expanded={hasChildren ? !entry.topic.collapsed : undefined}
          >
            {entry.topic.text || 'Untitled topic'}
          </div>
        );
      })}
    </div>
  );
}
