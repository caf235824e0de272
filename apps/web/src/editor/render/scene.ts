import type { MapDocument } from '@canopy/model';
import { layoutDocument, connectorBounds } from '../layout/layoutDocument.ts';
import { containsPoint, unionRect, type Point, type Rect } from '../layout/geometry.ts';
import { collapsedBadge } from './badges.ts';
import type { Connector, LayoutKind, MapLayout, TopicBox } from '../layout/types.ts';
import { GridIndex } from './spatialIndex.ts';
import type { TopicVisuals } from './topicStyle.ts';

export const BRANCH_PALETTE = [
  '#2e6fbd',
  '#c2410c',
  '#15803d',
  '#7e22ce',
  '#b91c1c',
  '#0f766e',
  '#a16207',
  '#be185d',
] as const;
export const ROOT_COLOR = '#24453a';

export interface CubicPiece {
  readonly p0: Point;
  readonly c1: Point;
  readonly c2: Point;
  readonly p3: Point;
  readonly bounds: Rect;
  /** Approximate arc length before this piece: the dash offset that keeps a dashed line continuous. */
  readonly offset: number;
}

/**
 * A relationship as a cubic Bézier between the borders of two boxes, also cut into pieces of a few hundred units:
 * a relationship may cross the whole map, and stroking (worse, dashing) a 50,000-pixel curve every frame to show
 * a few hundred pixels of it costs tens of milliseconds, so the renderer strokes only the visible pieces.
 */
export interface RelationshipCurve extends CubicPiece {
  readonly id: string;
  readonly pieces: readonly CubicPiece[];
  readonly label: string | undefined;
  readonly color: string;
  readonly dashed: boolean;
}

/** A boundary drawn around a range of a topic's child branches. */
export interface BoundaryShape {
  readonly id: string;
  readonly rect: Rect;
  readonly color: string;
  readonly label: string | undefined;
}

/** A laid-out document with the indexes that make drawing and hit-testing cost what is visible, not the map size. */
export interface Scene {
  readonly layout: MapLayout;
  readonly boxIndex: GridIndex<TopicBox>;
  readonly connectorIndex: GridIndex<Connector>;
  readonly relationships: readonly RelationshipCurve[];
  readonly boundaries: readonly BoundaryShape[];
  /** Branch colour of every box (the colour of its main topic). */
  readonly branchColor: ReadonlyMap<string, string>;
}

export function buildScene(doc: MapDocument, kind: LayoutKind, visuals: TopicVisuals): Scene {
  const layout = layoutDocument(doc, kind, visuals.measure);
  const boxIndex = new GridIndex<TopicBox>(256);
  const branchColor = new Map<string, string>();
  // Colours follow the main topics' document order, so adding a branch does not recolour the others.
  const mainIndex = new Map(doc.root.children.map((t, i) => [t.id, i]));
  for (const box of layout.boxes) {
    boxIndex.insert(box, box);
    let color: string;
    if (box.parentId === null) color = ROOT_COLOR;
    else if (box.depth === 1) color = BRANCH_PALETTE[(mainIndex.get(box.id) ?? 0) % BRANCH_PALETTE.length]!;
    else color = branchColor.get(box.parentId) ?? ROOT_COLOR;
    branchColor.set(box.id, box.topic.style?.lineColor ?? color);
  }
  const connectorIndex = new GridIndex<Connector>(256);
  for (const c of layout.connectors) connectorIndex.insert(connectorBounds(c), c);
  const relationships: RelationshipCurve[] = [];
  for (const rel of doc.relationships) {
    const from = layout.byId.get(rel.fromId);
    const to = layout.byId.get(rel.toId);
    if (!from || !to || from === to) continue;
    relationships.push(
      relationshipCurve(rel.id, from, to, rel.label, rel.color ?? '#6b7280', rel.dashed ?? false),
    );
  }
  return {
    layout,
    boxIndex,
    connectorIndex,
    relationships,
    boundaries: boundaryShapes(layout, branchColor),
    branchColor,
  };
}

const BOUNDARY_PADDING = 6;

/** Boundaries around visible child ranges, from the bounds of each child's visible subtree. */
function boundaryShapes(layout: MapLayout, branchColor: ReadonlyMap<string, string>): BoundaryShape[] {
  const holders = layout.boxes.filter((b) => b.topic.boundaries?.length && b.hiddenCount === 0);
  if (holders.length === 0) return [];
  // Boxes come parents first, so walking them backwards folds every subtree into its parent's bounds.
  const subtree = new Map<string, Rect>();
  for (let i = layout.boxes.length - 1; i >= 0; i--) {
    const box = layout.boxes[i]!;
    const own = subtree.get(box.id);
    const bounds = own ? unionRect(own, box) : { x: box.x, y: box.y, width: box.width, height: box.height };
    subtree.set(box.id, bounds);
    if (box.parentId !== null) {
      const parent = subtree.get(box.parentId);
      subtree.set(box.parentId, parent ? unionRect(parent, bounds) : bounds);
    }
  }
  const shapes: BoundaryShape[] = [];
  for (const holder of holders) {
    for (const boundary of holder.topic.boundaries ?? []) {
      let rect: Rect | undefined;
      for (const child of holder.topic.children.slice(boundary.range.from, boundary.range.to + 1)) {
        const bounds = subtree.get(child.id);
        if (bounds) rect = rect ? unionRect(rect, bounds) : bounds;
      }
      if (!rect) continue;
      shapes.push({
        id: boundary.id,
        rect: {
          x: rect.x - BOUNDARY_PADDING,
          y: rect.y - BOUNDARY_PADDING,
          width: rect.width + 2 * BOUNDARY_PADDING,
          height: rect.height + 2 * BOUNDARY_PADDING,
        },
        color:
          boundary.color ??
          branchColor.get(holder.topic.children[boundary.range.from]?.id ?? holder.id) ??
          ROOT_COLOR,
        label: boundary.label,
      });
    }
  }
  return shapes;
}

/** The collapsed topic whose count badge is under a world point, if any. */
export function badgeHitTest(scene: Scene, p: Point): TopicBox | undefined {
  const reach = 40;
  const near = scene.boxIndex.query({ x: p.x - reach, y: p.y - reach, width: 2 * reach, height: 2 * reach });
  return near.find((box) => box.hiddenCount > 0 && containsPoint(collapsedBadge(box, scene.layout.kind), p));
}

/** The topmost box under a world point, if any. */
export function hitTest(scene: Scene, p: Point): TopicBox | undefined {
  const hits = scene.boxIndex.query({ x: p.x, y: p.y, width: 0, height: 0 });
  return hits[hits.length - 1];
}

function relationshipCurve(
  id: string,
  a: Rect,
  b: Rect,
  label: string | undefined,
  color: string,
  dashed: boolean,
): RelationshipCurve {
  const ca = { x: a.x + a.width / 2, y: a.y + a.height / 2 };
  const cb = { x: b.x + b.width / 2, y: b.y + b.height / 2 };
  const dx = cb.x - ca.x;
  const dy = cb.y - ca.y;
  const len = Math.hypot(dx, dy) || 1;
  // Bow the curve to one side so that it does not run along the tree's own connectors.
  const bow = Math.min(160, len * 0.3);
  const nx = (-dy / len) * bow;
  const ny = (dx / len) * bow;
  const c1 = { x: ca.x + dx * 0.25 + nx, y: ca.y + dy * 0.25 + ny };
  const c2 = { x: cb.x - dx * 0.25 + nx, y: cb.y - dy * 0.25 + ny };
  const p0 = borderPoint(a, ca, c1);
  const p3 = borderPoint(b, cb, c2);
  const xs = [p0.x, c1.x, c2.x, p3.x];
  const ys = [p0.y, c1.y, c2.y, p3.y];
  const minX = Math.min(...xs);
  const minY = Math.min(...ys);
  const bounds = { x: minX, y: minY, width: Math.max(...xs) - minX, height: Math.max(...ys) - minY };
  return { id, p0, c1, c2, p3, bounds, offset: 0, pieces: splitCubic(p0, c1, c2, p3), label, color, dashed };
}

const PIECE_LENGTH = 400;

/** Cuts a cubic into pieces of about PIECE_LENGTH (by the control polygon's length, which bounds the arc's). */
export function splitCubic(p0: Point, c1: Point, c2: Point, p3: Point): CubicPiece[] {
  const polygon = dist(p0, c1) + dist(c1, c2) + dist(c2, p3);
  const count = Math.max(1, Math.min(256, Math.ceil(polygon / PIECE_LENGTH)));
  const pieces: CubicPiece[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const piece = subCubic(p0, c1, c2, p3, i / count, (i + 1) / count);
    const xs = [piece[0].x, piece[1].x, piece[2].x, piece[3].x];
    const ys = [piece[0].y, piece[1].y, piece[2].y, piece[3].y];
    const x = Math.min(...xs);
    const y = Math.min(...ys);
    pieces.push({
      p0: piece[0],
      c1: piece[1],
      c2: piece[2],
      p3: piece[3],
      bounds: { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y },
      offset,
    });
    offset +=
      (dist(piece[0], piece[3]) +
        dist(piece[0], piece[1]) +
        dist(piece[1], piece[2]) +
        dist(piece[2], piece[3])) /
      2;
  }
  return pieces;
}

/** The part of a cubic between parameters t0 and t1 (de Casteljau, twice). */
function subCubic(
  p0: Point,
  c1: Point,
  c2: Point,
  p3: Point,
  t0: number,
  t1: number,
): [Point, Point, Point, Point] {
  const [, right] = splitAt([p0, c1, c2, p3], t0);
  const local = t0 === 1 ? 0 : (t1 - t0) / (1 - t0);
  const [left] = splitAt(right, local);
  return left;
}

type Cubic = [Point, Point, Point, Point];
function splitAt([a, b, c, d]: Cubic, t: number): [Cubic, Cubic] {
  const ab = lerp(a, b, t);
  const bc = lerp(b, c, t);
  const cd = lerp(c, d, t);
  const abc = lerp(ab, bc, t);
  const bcd = lerp(bc, cd, t);
  const m = lerp(abc, bcd, t);
  return [
    [a, ab, abc, m],
    [m, bcd, cd, d],
  ];
}

function lerp(a: Point, b: Point, t: number): Point {
  return { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t };
}

function dist(a: Point, b: Point): number {
  return Math.hypot(b.x - a.x, b.y - a.y);
}

/** Where the ray from the box's centre towards `toward` leaves the box. */
export function borderPoint(box: Rect, centre: Point, toward: Point): Point {
  const dx = toward.x - centre.x;
  const dy = toward.y - centre.y;
  if (dx === 0 && dy === 0) return centre;
  const sx = dx === 0 ? Infinity : box.width / 2 / Math.abs(dx);
  const sy = dy === 0 ? Infinity : box.height / 2 / Math.abs(dy);
  const s = Math.min(sx, sy);
  return { x: centre.x + dx * s, y: centre.y + dy * s };
}
