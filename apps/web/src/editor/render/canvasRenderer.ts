import type { Rect } from '../layout/geometry.ts';
import type { DropTarget } from '../pointer/dropTarget.ts';
import type { Connector, TopicBox } from '../layout/types.ts';
import type { ImageCache } from './imageCache.ts';
import { collapsedBadge } from './badges.ts';
import type { RelationshipCurve, Scene } from './scene.ts';
import { ICON_GAP, ICON_SIZE, type TopicVisual, type TopicVisuals } from './topicStyle.ts';
import { visibleWorldRect, type ViewTransform } from './viewTransform.ts';

const BACKGROUND = '#f6f7f4';
const SELECTION = '#1d4ed8';
/** Below this on-screen font size text is not drawn (it cannot be read), only the boxes. */
const MIN_READABLE_PX = 4;
/** Below this scale connectors are straight lines and boxes plain rectangles. */
const SIMPLE_SCALE = 0.25;

export interface RenderState {
  readonly scene: Scene;
  readonly view: ViewTransform;
  readonly selectedId: string | null;
  /** The topic whose text is being edited in the overlay (its text is not painted). */
  readonly editingId: string | null;
  /** While a topic is dragged: its ghost under the pointer and where it would land. */
  readonly drag?: DragFeedback | undefined;
}

export interface DragFeedback {
  readonly ghost: Rect;
  readonly drop: DropTarget | undefined;
}

export interface FrameStats {
  readonly boxes: number;
  readonly connectors: number;
  readonly ms: number;
}

/**
 * Paints a scene on a 2D canvas. Only what intersects the viewport is drawn: boxes and connectors come from the
 * scene's grid indexes, so a frame costs the visible topics, not the map. Boxes and connectors are batched into
 * one path per colour; text is drawn grouped by font. At small scales it switches to a cheaper level of detail.
 */
export class CanvasRenderer {
  private readonly ctx: CanvasRenderingContext2D;
  private width = 0;
  private height = 0;
  private dpr = 1;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly visuals: TopicVisuals,
    private readonly images: ImageCache,
  ) {
    const ctx = canvas.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('2D canvas is not available');
    this.ctx = ctx;
  }

  /** Sizes the backing store to the element's CSS size times the device pixel ratio. */
  resize(cssWidth: number, cssHeight: number, dpr: number): void {
    this.width = cssWidth;
    this.height = cssHeight;
    this.dpr = dpr;
    this.canvas.width = Math.max(1, Math.round(cssWidth * dpr));
    this.canvas.height = Math.max(1, Math.round(cssHeight * dpr));
  }

  render(state: RenderState): FrameStats {
    const start = performance.now();
    const { ctx } = this;
    const { scene, view } = state;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    const k = this.dpr * view.scale;
    ctx.setTransform(k, 0, 0, k, this.dpr * view.x, this.dpr * view.y);

    // A margin so that badges and selection rings just outside a box are not clipped at the edges.
    const margin = 24 / view.scale;
    const visible = visibleWorldRect(view, this.width, this.height);
    const area: Rect = {
      x: visible.x - margin,
      y: visible.y - margin,
      width: visible.width + 2 * margin,
      height: visible.height + 2 * margin,
    };
    const connectors = scene.connectorIndex.query(area);
    const boxes = scene.boxIndex.query(area);
    const simple = view.scale < SIMPLE_SCALE;

    this.drawBoundaries(scene, area, view.scale);
    this.drawConnectors(scene, connectors, simple);
    // Relationships pass under the topics, so that a long cross-link never hides a topic's text.
    this.drawRelationships(scene.relationships, area, view.scale);
    this.drawBoxes(scene, boxes, simple);
    // Text is drawn wherever it is legible (the central and main topics stay readable when zoomed far out).
    this.drawContent(scene, boxes, view.scale, state.editingId, simple);
    this.drawBadges(scene, boxes, view.scale);
    this.drawSelection(scene, state.selectedId, view.scale);
    if (state.drag) this.drawDrag(state.drag, scene.layout.kind === 'org', view.scale);
    return { boxes: boxes.length, connectors: connectors.length, ms: performance.now() - start };
  }

  private drawBoundaries(scene: Scene, area: Rect, scale: number): void {
    const { ctx } = this;
    for (const b of scene.boundaries) {
      if (!rectsOverlap(b.rect, area)) continue;
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

  private drawConnectors(scene: Scene, connectors: readonly Connector[], simple: boolean): void {
    const { ctx } = this;
    const groups = new Map<string, Connector[]>();
    for (const c of connectors) {
      const child = scene.layout.byId.get(c.childId)!;
      // Org-chart connectors share a bus line under their parent, so they take the parent's colour.
      const colorOf = c.side === 'down' ? c.parentId : c.childId;
      const key = `${child.depth === 1 ? 3 : 1.5}|${scene.branchColor.get(colorOf)}`;
      const group = groups.get(key);
      if (group) group.push(c);
      else groups.set(key, [c]);
    }
    ctx.lineCap = 'round';
    for (const [key, group] of groups) {
      const [width, color] = key.split('|');
      ctx.beginPath();
      for (const { from, to, side } of group) {
        ctx.moveTo(from.x, from.y);
        if (simple) {
          ctx.lineTo(to.x, to.y);
        } else if (side === 'down') {
          const midY = (from.y + to.y) / 2;
          ctx.lineTo(from.x, midY);
          ctx.lineTo(to.x, midY);
          ctx.lineTo(to.x, to.y);
        } else {
          const dx = (to.x - from.x) / 2;
          ctx.bezierCurveTo(from.x + dx, from.y, to.x - dx, to.y, to.x, to.y);
        }
      }
      ctx.strokeStyle = color!;
      ctx.lineWidth = Number(width);
      ctx.stroke();
    }
  }

  private boxColors(scene: Scene, box: TopicBox): { fill: string; stroke: string; text: string } {
    const branch = scene.branchColor.get(box.id)!;
    const style = box.topic.style;
    if (box.parentId === null) {
      return {
        fill: style?.fillColor ?? branch,
        stroke: style?.lineColor ?? branch,
        text: style?.textColor ?? '#ffffff',
      };
    }
    if (box.depth === 1) {
      return { fill: style?.fillColor ?? branch, stroke: branch, text: style?.textColor ?? '#ffffff' };
    }
    return { fill: style?.fillColor ?? '#ffffff', stroke: branch, text: style?.textColor ?? '#1f2937' };
  }

  private drawBoxes(scene: Scene, boxes: readonly TopicBox[], simple: boolean): void {
    const { ctx } = this;
    const fills = new Map<string, TopicBox[]>();
    const strokes = new Map<string, TopicBox[]>();
    for (const box of boxes) {
      const { fill, stroke } = this.boxColors(scene, box);
      push(fills, fill, box);
      if (stroke !== fill) push(strokes, stroke, box);
    }
    for (const [color, group] of fills) {
      ctx.fillStyle = color;
      if (simple) {
        for (const b of group) ctx.fillRect(b.x, b.y, b.width, b.height);
        continue;
      }
      ctx.beginPath();
      for (const b of group)
        ctx.roundRect(b.x, b.y, b.width, b.height, this.visuals.get(b.topic, b.depth).radius);
      ctx.fill();
    }
    ctx.lineWidth = 1.25;
    for (const [color, group] of strokes) {
      ctx.strokeStyle = color;
      ctx.beginPath();
      for (const b of group) {
        if (simple) ctx.rect(b.x, b.y, b.width, b.height);
        else ctx.roundRect(b.x, b.y, b.width, b.height, this.visuals.get(b.topic, b.depth).radius);
      }
      ctx.stroke();
    }
  }

  private drawContent(
    scene: Scene,
    boxes: readonly TopicBox[],
    scale: number,
    editingId: string | null,
    simple: boolean,
  ): void {
    const { ctx } = this;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    const byFont = new Map<string, { box: TopicBox; visual: TopicVisual }[]>();
    for (const box of boxes) {
      const visual = this.visuals.get(box.topic, box.depth);
      if (!simple && box.topic.image) this.drawImage(box, visual, box.topic.image.ref);
      if (!simple && visual.icons.length > 0) this.drawIcons(box, visual);
      if (box.id === editingId || visual.fontSize * scale < MIN_READABLE_PX) continue;
      const group = byFont.get(visual.font);
      if (group) group.push({ box, visual });
      else byFont.set(visual.font, [{ box, visual }]);
    }
    for (const [font, group] of byFont) {
      ctx.font = font;
      let lastColor = '';
      for (const { box, visual } of group) {
        const color = this.boxColors(scene, box).text;
        if (color !== lastColor) {
          ctx.fillStyle = color;
          lastColor = color;
        }
        const origin = contentOrigin(box, visual);
        let y = origin.textTop + visual.lineHeight / 2;
        for (const line of visual.text.lines) {
          ctx.fillText(line, origin.textLeft, y);
          y += visual.lineHeight;
        }
      }
    }
  }

  private drawImage(box: TopicBox, visual: TopicVisual, ref: string): void {
    if (!visual.image) return;
    const { ctx } = this;
    const x = box.x + (box.width - visual.image.width) / 2;
    const y = box.y + visual.padY;
    const image = this.images.get(ref);
    if (image) {
      ctx.drawImage(image, x, y, visual.image.width, visual.image.height);
    } else {
      ctx.fillStyle = '#e5e7eb';
      ctx.fillRect(x, y, visual.image.width, visual.image.height);
    }
  }

  private drawIcons(box: TopicBox, visual: TopicVisual): void {
    const { ctx } = this;
    const origin = contentOrigin(box, visual);
    let x = origin.iconsLeft;
    const cy = origin.textTop + Math.max(visual.lineHeight, ICON_SIZE) / 2;
    const r = ICON_SIZE / 2;
    for (const icon of visual.icons) {
      const cx = x + r;
      const glyph = iconGlyph(icon);
      ctx.beginPath();
      ctx.arc(cx, cy, r - 0.5, 0, Math.PI * 2);
      ctx.fillStyle = glyph.background;
      ctx.fill();
      if (glyph.progress !== undefined) {
        ctx.beginPath();
        ctx.moveTo(cx, cy);
        ctx.arc(cx, cy, r - 2.5, -Math.PI / 2, -Math.PI / 2 + (Math.PI * 2 * glyph.progress) / 100);
        ctx.closePath();
        ctx.fillStyle = '#16a34a';
        ctx.fill();
      }
      if (glyph.label) {
        ctx.font = `700 10px system-ui, sans-serif`;
        ctx.textAlign = 'center';
        ctx.fillStyle = '#ffffff';
        ctx.fillText(glyph.label, cx, cy + 0.5);
        ctx.textAlign = 'left';
      }
      x += ICON_SIZE + ICON_GAP;
    }
  }

  /** Collapsed topics show how many topics they hide, on the side their children would grow. */
  private drawBadges(scene: Scene, boxes: readonly TopicBox[], scale: number): void {
    const { ctx } = this;
    const showText = 11 * scale >= MIN_READABLE_PX;
    ctx.font = '600 11px system-ui, sans-serif';
    for (const box of boxes) {
      if (box.hiddenCount === 0) continue;
      const { x, y, width: w, height: h, label } = collapsedBadge(box, scene.layout.kind);
      const color = scene.branchColor.get(box.id)!;
      ctx.beginPath();
      ctx.roundRect(x, y, w, h, h / 2);
      ctx.fillStyle = '#ffffff';
      ctx.fill();
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = color;
      ctx.stroke();
      if (showText) {
        ctx.fillStyle = color;
        ctx.textAlign = 'center';
        ctx.textBaseline = 'middle';
        ctx.fillText(label, x + w / 2, y + h / 2 + 0.5);
        ctx.textAlign = 'left';
      }
    }
  }

  private drawRelationships(curves: readonly RelationshipCurve[], area: Rect, scale: number): void {
    const { ctx } = this;
    for (const c of curves) {
      if (!rectsOverlap(c.bounds, area)) continue;
      ctx.strokeStyle = c.color;
      ctx.fillStyle = c.color;
      ctx.lineWidth = 1.5;
      ctx.setLineDash(c.dashed ? [6, 4] : []);
      ctx.beginPath();
      for (const piece of c.pieces) {
        if (!rectsOverlap(piece.bounds, area)) continue;
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

  private drawDrag({ ghost, drop }: DragFeedback, org: boolean, scale: number): void {
    const { ctx } = this;
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

  private drawSelection(scene: Scene, selectedId: string | null, scale: number): void {
    if (selectedId === null) return;
    const box = scene.layout.byId.get(selectedId);
    if (!box) return;
    const { ctx } = this;
    const pad = 4 / scale;
    ctx.lineWidth = 2.5 / scale;
    ctx.strokeStyle = SELECTION;
    ctx.beginPath();
    ctx.roundRect(box.x - pad, box.y - pad, box.width + 2 * pad, box.height + 2 * pad, 8);
    ctx.stroke();
  }
}

/** Where a box's icons, text and image start: the icon+text row is centred in the box, below the image. */
export function contentOrigin(
  box: Rect,
  visual: TopicVisual,
): { iconsLeft: number; textLeft: number; textTop: number } {
  const iconsWidth = visual.icons.length * (ICON_SIZE + ICON_GAP);
  const rowWidth = iconsWidth + visual.text.width;
  const iconsLeft = box.x + (box.width - rowWidth) / 2;
  const imageHeight = visual.image ? visual.image.height + visual.padY : 0;
  const rowHeight = Math.max(
    visual.text.lines.length * visual.lineHeight,
    visual.icons.length > 0 ? ICON_SIZE : 0,
  );
  const textTop =
    box.y + visual.padY + imageHeight + (rowHeight - visual.text.lines.length * visual.lineHeight) / 2;
  return { iconsLeft, textLeft: iconsLeft + iconsWidth, textTop };
}

interface IconGlyph {
  background: string;
  label?: string;
  progress?: number;
}

const FLAG_COLORS: Record<string, string> = {
  red: '#dc2626',
  orange: '#ea580c',
  yellow: '#ca8a04',
  green: '#16a34a',
  blue: '#2563eb',
  purple: '#9333ea',
};

function iconGlyph(icon: string): IconGlyph {
  const priority = /^priority-(\d)$/.exec(icon);
  if (priority) return { background: '#dc2626', label: priority[1]! };
  const progress = /^progress-(\d+)$/.exec(icon);
  if (progress) return { background: '#d1d5db', progress: Number(progress[1]) };
  const flag = /^flag-(\w+)$/.exec(icon);
  if (flag) return { background: FLAG_COLORS[flag[1]!] ?? '#6b7280', label: '⚑' };
  const name = icon.replace(/^[a-z]+:/, '');
  return { background: '#6b7280', label: name.charAt(0).toUpperCase() };
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

function rectsOverlap(a: Rect, b: Rect): boolean {
  return a.x <= b.x + b.width && b.x <= a.x + a.width && a.y <= b.y + b.height && b.y <= a.y + a.height;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
