import type { MapDocument, Topic } from '@canopy/model';
import { countDescendants } from '../document/topicIndex.ts';
import { unionRect, type Rect, type Size } from './geometry.ts';
import {
  DEFAULT_SPACING,
  type BranchSide,
  type Connector,
  type LayoutKind,
  type LayoutSpacing,
  type MapLayout,
  type MeasureTopic,
  type TopicBox,
} from './types.ts';

/**
 * Lays out a map: a pure function of the document, the layout kind and the measured topic sizes.
 *
 * - `map`: main topics on both sides of the central topic, clockwise (right side top to bottom, then the left
 *   side bottom to top), split so that both sides are about as tall;
 * - `tree`: every main topic on the right;
 * - `org`: an org chart, children in a row below their parent.
 *
 * Each subtree gets a block as tall (or, in the org chart, as wide) as the larger of its own box and its children's
 * blocks, and a parent is centred on its block: O(n), no overlaps between sibling subtrees. Collapsed topics hide
 * their descendants and report how many they hide. Floating topics are laid out as their own trees, at their
 * `position` relative to the central topic's centre, or stacked below the map when they have none.
 */
export function layoutDocument(
  doc: MapDocument,
  kind: LayoutKind,
  measure: MeasureTopic,
  spacing: LayoutSpacing = DEFAULT_SPACING,
): MapLayout {
  const out = new LayoutOutput();
  const root = flatten(doc.root, measure);
  const rootNode = root[0]!;
  const rootBox = { x: -rootNode.size.width / 2, y: -rootNode.size.height / 2 };

  if (kind === 'org') {
    computeExtents(root, 'horizontal', spacing);
    placeVertical(root, rootBox.x, rootBox.y, spacing, out, false);
  } else {
    computeExtents(root, 'vertical', spacing);
    out.add(rootNode, rootBox.x, rootBox.y, null, 'root', false);
    const mains = rootNode.children;
    const rightCount = kind === 'tree' ? mains.length : splitPoint(root, mains, spacing.siblingGap);
    const right = mains.slice(0, rightCount);
    // Clockwise: the left side reads bottom to top.
    const left = mains.slice(rightCount).reverse();
    const gap = spacing.levelGap + spacing.rootGap;
    placeColumn(
      root,
      rootNode.topic.id,
      right,
      rootBox.x + rootNode.size.width + gap,
      0,
      'right',
      spacing,
      out,
      false,
    );
    placeColumn(root, rootNode.topic.id, left, rootBox.x - gap, 0, 'left', spacing, out, false);
  }

  let mainBounds = out.bounds();
  let stackY = mainBounds.y + mainBounds.height + spacing.floatingGap;
  for (const topic of doc.floating) {
    const nodes = flatten(topic, measure);
    const head = nodes[0]!;
    if (kind === 'org') computeExtents(nodes, 'horizontal', spacing);
    else computeExtents(nodes, 'vertical', spacing);
    let x: number;
    let y: number;
    if (topic.position) {
      x = topic.position.x - head.size.width / 2;
      y = topic.position.y - head.size.height / 2;
    } else {
      x = mainBounds.x;
      y = stackY + (kind === 'org' ? 0 : (head.extent - head.size.height) / 2);
    }
    if (kind === 'org') {
      placeVertical(nodes, x, y, spacing, out, true);
    } else {
      out.add(head, x, y, null, 'root', true);
      placeColumn(
        nodes,
        head.topic.id,
        head.children,
        x + head.size.width + spacing.levelGap,
        y + head.size.height / 2,
        'right',
        spacing,
        out,
        true,
      );
    }
    if (!topic.position) {
      mainBounds = out.bounds();
      stackY = mainBounds.y + mainBounds.height + spacing.floatingGap;
    }
  }
  return out.finish(kind);
}

interface FlatNode {
  readonly topic: Topic;
  readonly depth: number;
  readonly size: Size;
  /** Indexes of the visible children in the flat array. */
  readonly children: number[];
  /** Size of the subtree's block along the stacking axis (room for boundaries included), filled by computeExtents. */
  extent: number;
  hiddenCount: number;
  /** Room kept before and after this subtree for a boundary that starts or ends at it (and its label). */
  readonly padBefore: number;
  readonly padAfter: number;
}

/** Room for a boundary's frame and label before the first branch it covers, and for its frame after the last. */
const BOUNDARY_ROOM_BEFORE = 22;
const BOUNDARY_ROOM_AFTER = 10;

/** Pre-order flattening of the visible part of a tree (children of collapsed topics are skipped). */
function flatten(root: Topic, measure: MeasureTopic): FlatNode[] {
  const nodes: FlatNode[] = [];
  const stack: { topic: Topic; depth: number; parent: number; padBefore: number; padAfter: number }[] = [
    { topic: root, depth: 0, parent: -1, padBefore: 0, padAfter: 0 },
  ];
  while (stack.length > 0) {
    const { topic, depth, parent, padBefore, padAfter } = stack.pop()!;
    const collapsed = topic.collapsed === true && topic.children.length > 0;
    const node: FlatNode = {
      topic,
      depth,
      size: measure(topic, depth),
      children: [],
      extent: 0,
      hiddenCount: collapsed ? countDescendants(topic) : 0,
      padBefore,
      padAfter,
    };
    const at = nodes.push(node) - 1;
    if (parent >= 0) nodes[parent]!.children.push(at);
    if (!collapsed) {
      const last = topic.children.length - 1;
      const before = new Array<number>(topic.children.length).fill(0);
      const after = new Array<number>(topic.children.length).fill(0);
      for (const { range } of topic.boundaries ?? []) {
        const from = Math.min(Math.max(0, range.from), last);
        const to = Math.min(Math.max(from, range.to), last);
        before[from]! += BOUNDARY_ROOM_BEFORE;
        after[to]! += BOUNDARY_ROOM_AFTER;
      }
      for (let c = last; c >= 0; c--) {
        stack.push({
          topic: topic.children[c]!,
          depth: depth + 1,
          parent: at,
          padBefore: before[c]!,
          padAfter: after[c]!,
        });
      }
    }
  }
  // The stack visits children last-pushed-first, so each children list is already in document order.
  return nodes;
}

/** Fills each node's extent, children before parents (reverse pre-order). */
function computeExtents(
  nodes: FlatNode[],
  stacking: 'vertical' | 'horizontal',
  spacing: LayoutSpacing,
): void {
  const gap = stacking === 'vertical' ? spacing.siblingGap : spacing.orgSiblingGap;
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    const own = stacking === 'vertical' ? node.size.height : node.size.width;
    node.extent = Math.max(own, childrenExtent(nodes, node.children, gap)) + node.padBefore + node.padAfter;
  }
}

function childrenExtent(nodes: readonly FlatNode[], children: readonly number[], gap: number): number {
  if (children.length === 0) return 0;
  let total = gap * (children.length - 1);
  for (const c of children) total += nodes[c]!.extent;
  return total;
}

/** How many main topics go on the right so that both sides are about as tall (at least one on the right). */
function splitPoint(nodes: readonly FlatNode[], mains: readonly number[], gap: number): number {
  const total = childrenExtent(nodes, mains, gap);
  let right = 0;
  let count = 0;
  for (const m of mains) {
    if (count > 0 && right >= total / 2) break;
    right += nodes[m]!.extent + gap;
    count++;
  }
  return count;
}

/**
 * Places a column of sibling subtrees centred vertically on `centerY`, their boxes starting at `edgeX`
 * (their left edge on the right side, their right edge on the left side), and recursively their children.
 * Iterative so deep trees do not overflow the stack.
 */
function placeColumn(
  nodes: readonly FlatNode[],
  parentId: string,
  siblings: readonly number[],
  edgeX: number,
  centerY: number,
  side: 'left' | 'right',
  spacing: LayoutSpacing,
  out: LayoutOutput,
  floating: boolean,
): void {
  const work = [{ siblings, edgeX, centerY, parentId }];
  while (work.length > 0) {
    const job = work.pop()!;
    const total = childrenExtent(nodes, job.siblings, spacing.siblingGap);
    let blockTop = job.centerY - total / 2;
    for (const s of job.siblings) {
      const node = nodes[s]!;
      const { width, height } = node.size;
      const x = side === 'right' ? job.edgeX : job.edgeX - width;
      const inner = node.extent - node.padBefore - node.padAfter;
      const y = blockTop + node.padBefore + (inner - height) / 2;
      out.add(node, x, y, job.parentId, side, floating);
      if (node.children.length > 0) {
        work.push({
          siblings: node.children,
          edgeX: side === 'right' ? x + width + spacing.levelGap : x - spacing.levelGap,
          centerY: blockTop + node.padBefore + inner / 2,
          parentId: node.topic.id,
        });
      }
      blockTop += node.extent + spacing.siblingGap;
    }
  }
}

/** Places an org-chart tree whose head box has its top-left corner at (headX, top). */
function placeVertical(
  nodes: readonly FlatNode[],
  headX: number,
  top: number,
  spacing: LayoutSpacing,
  out: LayoutOutput,
  floating: boolean,
): void {
  const head = nodes[0]!;
  const blockLeft = headX - (head.extent - head.size.width) / 2;
  const work: { index: number; blockLeft: number; top: number; parentId: string | null }[] = [
    { index: 0, blockLeft, top, parentId: null },
  ];
  while (work.length > 0) {
    const job = work.pop()!;
    const node = nodes[job.index]!;
    const inner = node.extent - node.padBefore - node.padAfter;
    const innerLeft = job.blockLeft + node.padBefore;
    const x = innerLeft + (inner - node.size.width) / 2;
    out.add(node, x, job.top, job.parentId, job.parentId === null ? 'root' : 'down', floating);
    const total = childrenExtent(nodes, node.children, spacing.orgSiblingGap);
    let left = innerLeft + (inner - total) / 2;
    const childTop = job.top + node.size.height + spacing.orgLevelGap;
    for (const c of node.children) {
      work.push({ index: c, blockLeft: left, top: childTop, parentId: node.topic.id });
      left += nodes[c]!.extent + spacing.orgSiblingGap;
    }
  }
}

class LayoutOutput {
  private readonly boxes: TopicBox[] = [];
  private readonly byId = new Map<string, TopicBox>();
  private minX = Infinity;
  private minY = Infinity;
  private maxX = -Infinity;
  private maxY = -Infinity;

  add(
    node: FlatNode,
    x: number,
    y: number,
    parentId: string | null,
    side: BranchSide,
    floating: boolean,
  ): void {
    const box: TopicBox = {
      id: node.topic.id,
      topic: node.topic,
      depth: node.depth,
      parentId,
      side,
      hiddenCount: node.hiddenCount,
      floating,
      x,
      y,
      width: node.size.width,
      height: node.size.height,
    };
    this.boxes.push(box);
    this.byId.set(box.id, box);
    this.minX = Math.min(this.minX, x);
    this.minY = Math.min(this.minY, y);
    this.maxX = Math.max(this.maxX, x + box.width);
    this.maxY = Math.max(this.maxY, y + box.height);
  }

  bounds(): Rect {
    if (this.boxes.length === 0) return { x: 0, y: 0, width: 0, height: 0 };
    return { x: this.minX, y: this.minY, width: this.maxX - this.minX, height: this.maxY - this.minY };
  }

  finish(kind: LayoutKind): MapLayout {
    const connectors: Connector[] = [];
    for (const box of this.boxes) {
      if (box.parentId === null) continue;
      const parent = this.byId.get(box.parentId)!;
      connectors.push(connectorBetween(parent, box));
    }
    return { kind, boxes: this.boxes, connectors, byId: this.byId, bounds: this.bounds() };
  }
}

function connectorBetween(parent: TopicBox, child: TopicBox): Connector {
  const base = { parentId: parent.id, childId: child.id, side: child.side };
  switch (child.side) {
    case 'down':
      return {
        ...base,
        from: { x: parent.x + parent.width / 2, y: parent.y + parent.height },
        to: { x: child.x + child.width / 2, y: child.y },
      };
    case 'left':
      return {
        ...base,
        from: { x: parent.x, y: parent.y + parent.height / 2 },
        to: { x: child.x + child.width, y: child.y + child.height / 2 },
      };
    default:
      return {
        ...base,
        from: { x: parent.x + parent.width, y: parent.y + parent.height / 2 },
        to: { x: child.x, y: child.y + child.height / 2 },
      };
  }
}

/** The rectangle a connector's curve stays within (used to index connectors for culling). */
export function connectorBounds(c: Connector): Rect {
  return unionRect(
    { x: c.from.x, y: c.from.y, width: 0, height: 0 },
    { x: c.to.x, y: c.to.y, width: 0, height: 0 },
  );
}
