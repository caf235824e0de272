import { pathTo, type TopicIndex } from '../document/topicIndex.ts';
import type { Point } from '../layout/geometry.ts';
import type { MapLayout, TopicBox } from '../layout/types.ts';

export interface DropTarget {
  /** The box the pointer is over. */
  readonly target: TopicBox;
  /** Become its last child, or its sibling just before or after it. */
  readonly mode: 'child' | 'before' | 'after';
  /** Where the dragged topic goes in the store's terms. */
  readonly parentId: string;
  readonly index: number;
}

/** The share of a box's height (width in the org chart) at each end that means "next to it" rather than "into it". */
const EDGE = 0.25;

/**
 * Where a dragged topic would land if dropped at `point`: onto a topic (as its last child), or near the top or
 * bottom edge of one (beside it, as a sibling; left or right edge in the org chart). Never into the dragged branch
 * itself, and never beside the central topic or a floating topic. Undefined when the drop would change nothing
 * useful or is not allowed.
 */
export function dropTarget(
  layout: MapLayout,
  index: TopicIndex,
  draggedId: string,
  point: Point,
  boxesAtPoint: readonly TopicBox[],
): DropTarget | undefined {
  const target = boxesAtPoint[boxesAtPoint.length - 1];
  if (!target || target.id === draggedId) return undefined;
  if (pathTo(index, target.id).includes(draggedId)) return undefined;
  const entry = index.get(target.id);
  if (!entry) return undefined;
  const along =
    layout.kind === 'org' ? (point.x - target.x) / target.width : (point.y - target.y) / target.height;
  const besideAllowed = entry.parentId !== null;
  if (besideAllowed && along < EDGE)
    return { target, mode: 'before', parentId: entry.parentId!, index: entry.index };
  if (besideAllowed && along > 1 - EDGE) {
    return { target, mode: 'after', parentId: entry.parentId!, index: entry.index + 1 };
  }
  return { target, mode: 'child', parentId: target.id, index: entry.topic.children.length };
}
