import type { Rect } from '../layout/geometry.ts';
import type { DropTarget } from '../pointer/dropTarget.ts';
import type { Connector, TopicBox } from '../layout/types.ts';
import type { ImageCache } from './imageCache.ts';
import { collapsedBadge } from './badges.ts';
import type { Scene } from './scene.ts';
import { contentOrigin, type TopicVisual, type TopicVisuals } from './topicStyle.ts';
import { drawIcons } from './icons.ts';
import { drawIndicators } from './indicators.ts';
import { drawBoundaries, drawDragFeedback, drawRelationships } from './overlays.ts';
import { BACKGROUND, MIN_READABLE_PX, SELECTION } from './theme.ts';
import type { ViewTransform } from './viewTransform.ts';

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
  /** The last painted frame's state: a pan from it can reuse its pixels. */
  private last: RenderState | null = null;
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
    this.dpr = dpr;
    this.canvas.width = Math.max(1, Math.round(cssWidth * dpr));
    this.canvas.height = Math.max(1, Math.round(cssHeight * dpr));
    this.last = null;
  }

  /** The next frame repaints everything (something outside the render state changed, e.g. an image loaded). */
  invalidate(): void {
    this.last = null;
  }

  /**
   * Paints a frame. When only the view moved, by whole device pixels, since the last frame (a pan), the previous
   * frame is shifted and only the strips it uncovers are painted: panning costs a copy and a sliver of drawing
   * instead of a full repaint, whatever the zoom.
   */
  render(state: RenderState): FrameStats {
    const start = performance.now();
    const shift = this.panShift(state);
    const { width, height } = this.canvas;
    let boxes = 0;
    let connectors = 0;
    const paint = (x: number, y: number, w: number, h: number) => {
      const painted = this.paintRegion(state, { x, y, width: w, height: h });
      boxes += painted.boxes;
      connectors += painted.connectors;
    };
    if (shift) {
      const { ctx } = this;
      const { dx, dy } = shift;
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.globalCompositeOperation = 'copy';
      ctx.drawImage(this.canvas, dx, dy);
      ctx.globalCompositeOperation = 'source-over';
      if (dx > 0) paint(0, 0, dx, height);
      else if (dx < 0) paint(width + dx, 0, -dx, height);
      if (dy > 0) paint(0, 0, width, dy);
      else if (dy < 0) paint(0, height + dy, width, -dy);
    } else {
      paint(0, 0, width, height);
    }
    this.last = state;
    return { boxes, connectors, ms: performance.now() - start };
  }

  /** The shift in device pixels when the frame differs from the last one only by a whole-pixel pan. */
  private panShift(state: RenderState): { dx: number; dy: number } | null {
    const last = this.last;
    if (!last || state.drag || last.drag) return null;
    if (
      state.scene !== last.scene ||
      state.selectedId !== last.selectedId ||
      state.editingId !== last.editingId ||
      state.view.scale !== last.view.scale
    ) {
      return null;
    }
    const rawX = (state.view.x - last.view.x) * this.dpr;
    const rawY = (state.view.y - last.view.y) * this.dpr;
    const dx = Math.round(rawX);
    const dy = Math.round(rawY);
    // Only whole device pixels (within float error) keep the shifted pixels identical to a repaint.
    if (Math.abs(rawX - dx) > 1e-6 || Math.abs(rawY - dy) > 1e-6) return null;
    if (Math.abs(dx) >= this.canvas.width || Math.abs(dy) >= this.canvas.height) return null;
    return { dx, dy };
  }

  /** Paints everything that falls in a region of the canvas (device pixels), clipped to it. */
  private paintRegion(state: RenderState, region: Rect): { boxes: number; connectors: number } {
    const { ctx } = this;
    const { scene, view } = state;
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.beginPath();
    ctx.rect(region.x, region.y, region.width, region.height);
    ctx.clip();
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(region.x, region.y, region.width, region.height);
    const k = this.dpr * view.scale;
    ctx.setTransform(k, 0, 0, k, this.dpr * view.x, this.dpr * view.y);

    // The region in world coordinates, with a margin so that badges and selection rings just outside a box are
    // painted too.
    const margin = 24 / view.scale;
    const area: Rect = {
      x: (region.x / this.dpr - view.x) / view.scale - margin,
      y: (region.y / this.dpr - view.y) / view.scale - margin,
      width: region.width / this.dpr / view.scale + 2 * margin,
      height: region.height / this.dpr / view.scale + 2 * margin,
    };
    const connectors = scene.connectorIndex.query(area);
    const boxes = scene.boxIndex.query(area);
    const simple = view.scale < SIMPLE_SCALE;

    drawBoundaries(ctx, scene.boundaries, area, view.scale);
    this.drawConnectors(scene, connectors, simple);
    // Relationships pass under the topics, so that a long cross-link never hides a topic's text.
    drawRelationships(ctx, scene.relationships, area, view.scale);
    this.drawBoxes(scene, boxes, simple);
    // Text is drawn wherever it is legible (the central and main topics stay readable when zoomed far out).
    this.drawContent(scene, boxes, view.scale, state.editingId, simple);
    this.drawBadges(scene, boxes, view.scale);
    this.drawSelection(scene, state.selectedId, view.scale);
    if (state.drag) drawDragFeedback(ctx, state.drag, scene.layout.kind === 'org', view.scale);
    ctx.restore();
    return { boxes: boxes.length, connectors: connectors.length };
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
      if (!simple && visual.icons.length > 0) drawIcons(this.ctx, box, visual);
      if (!simple && visual.indicators.length > 0) {
        drawIndicators(this.ctx, box, visual, scene.branchColor.get(box.id)!);
      }
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

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
