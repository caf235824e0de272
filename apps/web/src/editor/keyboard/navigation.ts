import type { MapLayout, TopicBox } from '../layout/types.ts';
import type { Direction } from './commands.ts';

/**
 * The topic an arrow key moves to. Along the axis the branches grow (left/right in the map and the tree,
 * up/down in the org chart), the arrow follows the structure: outwards to the child nearest in line, inwards to
 * the parent. Otherwise, and when the structure has nothing that way, it moves spatially: to the nearest box
 * whose centre lies that way, preferring boxes in line with the current one.
 */
export function neighbour(layout: MapLayout, fromId: string, direction: Direction): TopicBox | undefined {
  const from = layout.byId.get(fromId);
  if (!from) return undefined;
  const structuralAxis = layout.kind === 'org' ? 'vertical' : 'horizontal';
  if (axisOf(direction) === structuralAxis) {
    const children = layout.boxes.filter((b) => b.parentId === from.id);
    const child = nearest(from, children, direction);
    if (child) return child;
    const parent = from.parentId === null ? undefined : layout.byId.get(from.parentId);
    if (parent && isToward(from, parent, direction)) return parent;
  }
  return nearest(from, layout.boxes, direction);
}

function axisOf(direction: Direction): 'horizontal' | 'vertical' {
  return direction === 'left' || direction === 'right' ? 'horizontal' : 'vertical';
}

function isToward(from: TopicBox, to: TopicBox, direction: Direction): boolean {
  return primaryDistance(from, to, direction) > 0.5;
}

/** How far `to`'s centre lies in `direction` from `from`'s centre (negative: the other way). */
function primaryDistance(from: TopicBox, to: TopicBox, direction: Direction): number {
  const fx = from.x + from.width / 2;
  const fy = from.y + from.height / 2;
  const tx = to.x + to.width / 2;
  const ty = to.y + to.height / 2;
  switch (direction) {
    case 'right':
      return tx - fx;
    case 'left':
      return fx - tx;
    case 'down':
      return ty - fy;
    case 'up':
      return fy - ty;
  }
}

/** The gap between the two boxes across the direction of travel (0 when they overlap on that axis). */
function crossGap(from: TopicBox, to: TopicBox, direction: Direction): number {
  if (axisOf(direction) === 'horizontal') {
    return Math.max(0, to.y - (from.y + from.height), from.y - (to.y + to.height));
  }
  return Math.max(0, to.x - (from.x + from.width), from.x - (to.x + to.width));
}

function nearest(
  from: TopicBox,
  candidates: readonly TopicBox[],
  direction: Direction,
): TopicBox | undefined {
  let best: TopicBox | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    if (c === from) continue;
    const primary = primaryDistance(from, c, direction);
    if (primary <= 0.5) continue;
    const score = primary + 3 * crossGap(from, c, direction);
    if (score < bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best;
}
