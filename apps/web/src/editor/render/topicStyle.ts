import type { Topic } from '@canopy/model';
import type { Rect, Size } from '../layout/geometry.ts';
import type { MeasureTopic } from '../layout/types.ts';
import type { TextBlock, TextLayoutCache } from './textLayout.ts';

const FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

interface LevelStyle {
  readonly fontSize: number;
  readonly fontWeight: number;
  readonly padX: number;
  readonly padY: number;
  readonly radius: number;
  readonly maxTextWidth: number;
}

const LEVELS: readonly LevelStyle[] = [
  { fontSize: 20, fontWeight: 600, padX: 20, padY: 14, radius: 12, maxTextWidth: 260 },
  { fontSize: 16, fontWeight: 500, padX: 12, padY: 8, radius: 8, maxTextWidth: 220 },
  { fontSize: 14, fontWeight: 400, padX: 9, padY: 5, radius: 6, maxTextWidth: 220 },
];

export const ICON_SIZE = 16;
export const ICON_GAP = 4;
export const INDICATOR_SIZE = 14;
export const INDICATOR_GAP = 3;
export const LINE_HEIGHT = 1.3;
const MAX_IMAGE = { width: 160, height: 120 };
const DEFAULT_IMAGE = { width: 96, height: 72 };
const MAX_ICONS = 4;
const MIN_TEXT_WIDTH = 24;

/** Everything the renderer needs to draw a topic's content, computed once per topic version. */
export interface TopicVisual {
  readonly font: string;
  readonly fontSize: number;
  readonly lineHeight: number;
  readonly text: TextBlock;
  readonly padX: number;
  readonly padY: number;
  readonly radius: number;
  /** Icon glyph ids drawn before the text: task priority and progress first, then the topic's icons. */
  readonly icons: readonly string[];
  /** Small badges after the text saying that the side panel has more: notes, links, tags, task details. */
  readonly indicators: readonly Indicator[];
  readonly image: Size | null;
  readonly size: Size;
}

/** What a topic carries beyond its text, shown as a badge after the text (the side panel shows the content). */
export type Indicator = 'notes' | 'link' | 'tags' | 'task';

export function levelStyle(depth: number): LevelStyle {
  return LEVELS[Math.min(depth, LEVELS.length - 1)]!;
}

/** The icon glyphs shown for a topic, most important first. */
export function topicIcons(topic: Topic): string[] {
  const icons: string[] = [];
  if (topic.task?.priority !== undefined) icons.push(`priority-${topic.task.priority}`);
  if (topic.task?.progress !== undefined) icons.push(`progress-${topic.task.progress}`);
  for (const icon of topic.icons ?? []) {
    if (icons.length >= MAX_ICONS) break;
    if (!icons.includes(icon)) icons.push(icon);
  }
  return icons.slice(0, MAX_ICONS);
}

/** The badges after a topic's text; the task badge only when priority and progress (drawn as icons) are not set. */
export function topicIndicators(topic: Topic): Indicator[] {
  const indicators: Indicator[] = [];
  if (topic.notesHtml) indicators.push('notes');
  if (topic.links?.length) indicators.push('link');
  if (topic.tags?.length) indicators.push('tags');
  const task = topic.task;
  if (
    task &&
    task.priority === undefined &&
    task.progress === undefined &&
    (task.startDate || task.dueDate || task.resources?.length || task.durationMinutes !== undefined)
  ) {
    indicators.push('task');
  }
  return indicators;
}

function indicatorsWidth(count: number): number {
  return count === 0 ? 0 : count * (INDICATOR_SIZE + INDICATOR_GAP) + INDICATOR_GAP;
}

function imageSize(topic: Topic): Size | null {
  if (!topic.image) return null;
  const w = topic.image.width ?? DEFAULT_IMAGE.width;
  const h = topic.image.height ?? DEFAULT_IMAGE.height;
  const scale = Math.min(1, MAX_IMAGE.width / w, MAX_IMAGE.height / h);
  return { width: Math.round(w * scale), height: Math.round(h * scale) };
}

/**
 * Computes topic visuals with the text layout cache, memoised per topic object: the store shares unchanged topics
 * between document versions, so after an edit only the changed topics are measured again.
 */
export class TopicVisuals {
  private readonly memo = new WeakMap<Topic, { depth: number; visual: TopicVisual }>();

  constructor(private readonly text: TextLayoutCache) {}

  get(topic: Topic, depth: number): TopicVisual {
    const hit = this.memo.get(topic);
    if (hit && hit.depth === depth) return hit.visual;
    const visual = this.compute(topic, depth);
    this.memo.set(topic, { depth, visual });
    return visual;
  }

  /** The layout's measure function. */
  readonly measure: MeasureTopic = (topic, depth) => this.get(topic, depth).size;

  private compute(topic: Topic, depth: number): TopicVisual {
    const level = levelStyle(depth);
    const fontSize = topic.style?.fontSize ?? level.fontSize;
    const weight = topic.style?.bold ? 700 : level.fontWeight;
    const italic = topic.style?.italic ? 'italic ' : '';
    const font = `${italic}${weight} ${fontSize}px ${FONT_FAMILY}`;
    const text = this.text.layout(topic.text, font, level.maxTextWidth);
    const lineHeight = Math.round(fontSize * LINE_HEIGHT);
    const icons = topicIcons(topic);
    const iconsWidth = icons.length === 0 ? 0 : icons.length * (ICON_SIZE + ICON_GAP);
    const indicators = topicIndicators(topic);
    const image = imageSize(topic);
    const textWidth = Math.max(MIN_TEXT_WIDTH, Math.ceil(text.width));
    const rowWidth = iconsWidth + textWidth + indicatorsWidth(indicators.length);
    const contentWidth = Math.max(rowWidth, image?.width ?? 0);
    const textHeight = Math.max(
      text.lines.length * lineHeight,
      icons.length > 0 ? ICON_SIZE : 0,
      indicators.length > 0 ? INDICATOR_SIZE : 0,
    );
    const contentHeight = textHeight + (image ? image.height + level.padY : 0);
    return {
      font,
      fontSize,
      lineHeight,
      text,
      padX: level.padX,
      padY: level.padY,
      radius: level.radius,
      icons,
      indicators,
      image,
      size: { width: contentWidth + 2 * level.padX, height: contentHeight + 2 * level.padY },
    };
  }
}

/**
 * Where a box's icons, text, indicators and image start: the icons+text+indicators row is centred in the box,
 * below the image. `rowTop`/`rowHeight` bound that row (icons and indicators are centred on it).
 */
export function contentOrigin(
  box: Rect,
  visual: TopicVisual,
): {
  iconsLeft: number;
  textLeft: number;
  textTop: number;
  indicatorsLeft: number;
  rowTop: number;
  rowHeight: number;
} {
  const iconsWidth = visual.icons.length * (ICON_SIZE + ICON_GAP);
  const rowWidth = iconsWidth + visual.text.width + indicatorsWidth(visual.indicators.length);
  const iconsLeft = box.x + (box.width - rowWidth) / 2;
  const imageHeight = visual.image ? visual.image.height + visual.padY : 0;
  const rowHeight = Math.max(
    visual.text.lines.length * visual.lineHeight,
    visual.icons.length > 0 ? ICON_SIZE : 0,
    visual.indicators.length > 0 ? INDICATOR_SIZE : 0,
  );
  const rowTop = box.y + visual.padY + imageHeight;
  const textTop = rowTop + (rowHeight - visual.text.lines.length * visual.lineHeight) / 2;
  const textLeft = iconsLeft + iconsWidth;
  return {
    iconsLeft,
    textLeft,
    textTop,
    indicatorsLeft: textLeft + visual.text.width + INDICATOR_GAP,
    rowTop,
    rowHeight,
  };
}
