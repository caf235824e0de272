import type { Rect } from '../layout/geometry.ts';
import {
  contentOrigin,
  INDICATOR_GAP,
  INDICATOR_SIZE,
  type Indicator,
  type TopicVisual,
} from './topicStyle.ts';

const GLYPHS: Record<Indicator, string> = {
  notes: '≡',
  link: '↗',
  tags: '#',
  task: '▦',
};

/** Where each of a topic's indicators sits (world coordinates): drawn here, and hit-tested by the same rects. */
export function indicatorRects(box: Rect, visual: TopicVisual): { indicator: Indicator; rect: Rect }[] {
  if (visual.indicators.length === 0) return [];
  const origin = contentOrigin(box, visual);
  // Centred on the first text line, like the icons before the text.
  const lineMiddle = origin.textTop + Math.max(visual.lineHeight, INDICATOR_SIZE) / 2;
  const y = Math.min(lineMiddle, origin.rowTop + origin.rowHeight / 2) - INDICATOR_SIZE / 2;
  return visual.indicators.map((indicator, i) => ({
    indicator,
    rect: {
      x: origin.indicatorsLeft + i * (INDICATOR_SIZE + INDICATOR_GAP),
      y,
      width: INDICATOR_SIZE,
      height: INDICATOR_SIZE,
    },
  }));
}

/**
 * Notes, links, tags and task details as small white tiles after the text: they say "open the side panel for
 * more" the way MindManager's note and link icons do, and read on both the filled main topics and white subtopics.
 */
export function drawIndicators(
  ctx: CanvasRenderingContext2D,
  box: Rect,
  visual: TopicVisual,
  color: string,
): void {
  const rects = indicatorRects(box, visual);
  if (rects.length === 0) return;
  ctx.beginPath();
  for (const { rect } of rects) ctx.roundRect(rect.x, rect.y, rect.width, rect.height, 3);
  ctx.fillStyle = '#ffffff';
  ctx.fill();
  ctx.lineWidth = 1;
  ctx.strokeStyle = color;
  ctx.stroke();
  ctx.font = '700 11px system-ui, sans-serif';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillStyle = color;
  for (const { indicator, rect } of rects) {
    ctx.fillText(GLYPHS[indicator], rect.x + rect.width / 2, rect.y + rect.height / 2 + 0.5);
  }
  ctx.textAlign = 'left';
}
