import { touches, type Rect } from '../layout/geometry.ts';
import type { DragFeedback } from './canvasRenderer.ts';
import type { BoundaryShape, RelationshipCurve } from './scene.ts';
import { BACKGROUND, MIN_READABLE_PX, SELECTION } from './theme.ts';

/** Boundaries: a tinted, dashed frame around a range of child branches, with its label above. */
export function drawBoundaries(
  ctx: CanvasRenderingContext2D,
  boundaries: readonly BoundaryShape[],
  area: Rect,
  scale: number,
): void {
  for (const b of boundaries) {
    if (!touches(b.rect, area)) continue;
    const { x, y, width, height } = b.rect;
    ctx.beginPath();
    ctx.roundRect(x, y, width, height, 10);
    ctx.fillStyle = /^#[0-9a-f]{6}$/i.test(b.color) ? `${b.color}14` : 'rgb(0 0 0 / 4%)';
    ctx.fill();
    ctx.setLineDash([5, 4]);
    ctx.lineWidth = 1.25;
    ctx.strokeStyle = b.color;
    ctx.stroke();
    ctx.setLineDash([]);
    if (b.label && 12 * scale >= MIN_READABLE_PX) {
      ctx.font = '600 12px system-ui, sans-serif';
      ctx.textAlign = 'left';
      ctx.textBaseline = 'bottom';
      ctx.fillStyle = b.color;
      ctx.fillText(b.label, x + 8, y - 3);
    }
  }
}

/** Relationships: Bézier curves with an arrowhead and an optional label; only their visible pieces are stroked. */
export function drawRelationships(
  ctx: CanvasRenderingContext2D,
  curves: readonly RelationshipCurve[],
  area: Rect,
  scale: number,
): void {
  for (const c of curves) {
    if (!touches(c.bounds, area)) continue;
    ctx.strokeStyle = c.color;
    ctx.fillStyle = c.color;
    ctx.lineWidth = 1.5;
    ctx.setLineDash(c.dashed ? [6, 4] : []);
    ctx.beginPath();
    for (const piece of c.pieces) {
      if (!touches(piece.bounds, area)) continue;
      // Each visible piece is its own subpath; the dash offset keeps the pattern continuous across pieces.
      if (c.dashed) {
        ctx.stroke();
        ctx.beginPath();
        ctx.lineDashOffset = piece.offset;
      }
      ctx.moveTo(piece.p0.x, piece.p0.y);
      ctx.bezierCurveTo(piece.c1.x, piece.c1.y, piece.c2.x, piece.c2.y, piece.p3.x, piece.p3.y);
    }
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.lineDashOffset = 0;
    // Arrowhead along the curve's end tangent.
    const angle = Math.atan2(c.p3.y - c.c2.y, c.p3.x - c.c2.x);
    const size = 9;
    ctx.beginPath();
    ctx.moveTo(c.p3.x, c.p3.y);
    ctx.lineTo(c.p3.x - size * Math.cos(angle - 0.4), c.p3.y - size * Math.sin(angle - 0.4));
    ctx.lineTo(c.p3.x - size * Math.cos(angle + 0.4), c.p3.y - size * Math.sin(angle + 0.4));
    ctx.closePath();
    ctx.fill();
    if (c.label && 12 * scale >= MIN_READABLE_PX) {
      const mid = bezierPoint(c, 0.5);
      ctx.font = 'italic 12px system-ui, sans-serif';
      const w = ctx.measureText(c.label).width + 8;
      ctx.fillStyle = BACKGROUND;
      ctx.fillRect(mid.x - w / 2, mid.y - 9, w, 18);
      ctx.fillStyle = c.color;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText(c.label, mid.x, mid.y);
      ctx.textAlign = 'left';
    }
  }
}

/** While a topic is dragged: where it would land, and its ghost under the pointer. */
export function drawDragFeedback(
  ctx: CanvasRenderingContext2D,
  { ghost, drop }: DragFeedback,
  org: boolean,
  scale: number,
): void {
  if (drop) {
    const t = drop.target;
    ctx.strokeStyle = SELECTION;
    if (drop.mode === 'child') {
      const pad = 5 / scale;
      ctx.lineWidth = 3 / scale;
      ctx.setLineDash([6 / scale, 4 / scale]);
      ctx.beginPath();
      ctx.roundRect(t.x - pad, t.y - pad, t.width + 2 * pad, t.height + 2 * pad, 8);
      ctx.stroke();
      ctx.setLineDash([]);
    } else {
      // A bar on the side where the topic would be inserted.
      const gap = 5 / scale;
      ctx.lineWidth = 4 / scale;
      ctx.beginPath();
      if (org) {
        const x = drop.mode === 'before' ? t.x - gap : t.x + t.width + gap;
        ctx.moveTo(x, t.y);
        ctx.lineTo(x, t.y + t.height);
      } else {
        const y = drop.mode === 'before' ? t.y - gap : t.y + t.height + gap;
        ctx.moveTo(t.x, y);
        ctx.lineTo(t.x + t.width, y);
      }
      ctx.stroke();
    }
  }
  ctx.globalAlpha = 0.45;
  ctx.fillStyle = '#ffffff';
  ctx.strokeStyle = SELECTION;
  ctx.lineWidth = 1.5 / scale;
  ctx.beginPath();
  ctx.roundRect(ghost.x, ghost.y, ghost.width, ghost.height, 6);
  ctx.fill();
  ctx.stroke();
  ctx.globalAlpha = 1;
}

function bezierPoint(c: RelationshipCurve, t: number): { x: number; y: number } {
  const u = 1 - t;
  const a = u * u * u;
  const b = 3 * u * u * t;
  const d = 3 * u * t * t;
  const e = t * t * t;
  return {
    x: a * c.p0.x + b * c.c1.x + d * c.c2.x + e * c.p3.x,
    y: a * c.p0.y + b * c.c1.y + d * c.c2.y + e * c.p3.y,
  };
}
