import { pathTo, type TopicIndex } from '../document/topicIndex.ts';
import type { MapLayout } from '../layout/types.ts';
import type { ViewTransform } from '../render/viewTransform.ts';
import type { Collaborator } from './presence.ts';

export interface PresenceMark {
  readonly collaborator: Collaborator;
  /** The topic the ring goes around: their selection, or its nearest shown ancestor when it is collapsed away. */
  readonly topicId: string;
}

const LABEL_FONT = '600 11px system-ui, sans-serif';
const LABEL_HEIGHT = 16;

/**
 * Paints the others' selections (a ring in their colour and their name) on a transparent canvas stacked over
 * the map canvas. A layer of its own, because the map canvas reuses its previous frame while panning (it
 * shifts pixels and paints only the uncovered strips): marks that move on their own would leave trails there.
 * Drawn in screen pixels, so the names stay legible at any zoom.
 */
export class PresenceLayer {
  private readonly ctx: CanvasRenderingContext2D | null;
  private dpr = 1;
  private painted = false;

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.ctx = canvas.getContext('2d');
  }

  resize(cssWidth: number, cssHeight: number, dpr: number): void {
    this.dpr = dpr;
    this.canvas.width = Math.max(1, Math.round(cssWidth * dpr));
    this.canvas.height = Math.max(1, Math.round(cssHeight * dpr));
    this.painted = false;
  }

  draw(marks: readonly PresenceMark[], layout: MapLayout, view: ViewTransform): void {
    const { ctx } = this;
    if (!ctx || (marks.length === 0 && !this.painted)) return;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    this.painted = false;
    // Several people on one topic get nested rings, and their labels side by side.
    const onTopic = new Map<string, number>();
    const labelX = new Map<string, number>();
    for (const { collaborator, topicId } of marks) {
      const box = layout.byId.get(topicId);
      if (!box) continue;
      const nth = onTopic.get(topicId) ?? 0;
      onTopic.set(topicId, nth + 1);
      const pad = 7 + nth * 4;
      const x = box.x * view.scale + view.x - pad;
      const y = box.y * view.scale + view.y - pad;
      const width = box.width * view.scale + 2 * pad;
      const height = box.height * view.scale + 2 * pad;
      ctx.lineWidth = 2.5;
      ctx.strokeStyle = collaborator.color;
      ctx.beginPath();
      ctx.roundRect(x, y, width, height, 9);
      ctx.stroke();

      ctx.font = LABEL_FONT;
      const textWidth = ctx.measureText(collaborator.name).width;
      const left = labelX.get(topicId) ?? x;
      const top = y - LABEL_HEIGHT + 1;
      ctx.fillStyle = collaborator.color;
      ctx.beginPath();
      ctx.roundRect(left, top, textWidth + 10, LABEL_HEIGHT, 4);
      ctx.fill();
      ctx.fillStyle = '#ffffff';
      ctx.textAlign = 'left';
      ctx.textBaseline = 'middle';
      ctx.fillText(collaborator.name, left + 5, top + LABEL_HEIGHT / 2 + 0.5);
      labelX.set(topicId, left + textWidth + 14);
      this.painted = true;
    }
  }
}

/**
 * Where each collaborator's ring goes in this layout. A selection inside a collapsed branch is shown on the
 * nearest shown ancestor; one this replica does not know yet (their new topic, still on its way) is not shown.
 */
export function presenceMarks(
  collaborators: readonly Collaborator[],
  layout: MapLayout,
  index: TopicIndex,
): PresenceMark[] {
  const marks: PresenceMark[] = [];
  for (const collaborator of collaborators) {
    const selection = collaborator.selection;
    if (selection === null || !index.has(selection)) continue;
    const path = pathTo(index, selection);
    for (let i = path.length - 1; i >= 0; i--) {
      if (layout.byId.has(path[i]!)) {
        marks.push({ collaborator, topicId: path[i]! });
        break;
      }
    }
  }
  return marks;
}
