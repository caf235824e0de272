import type { TopicBox } from '../layout/types.ts';
import { contentOrigin, ICON_GAP, ICON_SIZE, type TopicVisual } from './topicStyle.ts';

/** Task priority, progress and markers as small round glyphs before the text. */
export function drawIcons(ctx: CanvasRenderingContext2D, box: TopicBox, visual: TopicVisual): void {
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

export interface IconGlyph {
  readonly background: string;
  readonly label?: string;
  readonly progress?: number;
}

/** A marker people can pick in the side panel: a canonical id (packages/formats' names) and how it reads. */
export interface CatalogIcon {
  readonly id: string;
  readonly name: string;
}

const FLAG_COLORS: Record<string, string> = {
  red: '#dc2626',
  orange: '#ea580c',
  yellow: '#ca8a04',
  green: '#16a34a',
  blue: '#2563eb',
  purple: '#9333ea',
  black: '#111827',
};

/**
 * Markers with a glyph of their own. The ids are the canonical ones the importers write (MindManager's stock
 * icons in kebab case, e.g. `urn:mindjet:FlagRed` → `flag-red`), so a picked marker survives a round trip to
 * .mmap and .xmind. Priority and progress are not here: they are the task's fields.
 */
const SYMBOLS: Record<string, { name: string; glyph: IconGlyph }> = {
  'smiley-happy': { name: 'Happy', glyph: { background: '#ca8a04', label: '☺' } },
  'smiley-neutral': { name: 'Neutral', glyph: { background: '#a16207', label: '○' } },
  'smiley-sad': { name: 'Sad', glyph: { background: '#2563eb', label: '☹' } },
  'smiley-angry': { name: 'Angry', glyph: { background: '#b91c1c', label: '☹' } },
  check: { name: 'Done', glyph: { background: '#16a34a', label: '✓' } },
  'question-mark': { name: 'Question', glyph: { background: '#7c3aed', label: '?' } },
  'exclamation-mark': { name: 'Important', glyph: { background: '#dc2626', label: '!' } },
  'thumbs-up': { name: 'Thumbs up', glyph: { background: '#15803d', label: '+' } },
  'thumbs-down': { name: 'Thumbs down', glyph: { background: '#b91c1c', label: '−' } },
  lightbulb: { name: 'Idea', glyph: { background: '#eab308', label: '✦' } },
  stop: { name: 'Stop', glyph: { background: '#991b1b', label: '■' } },
  'on-hold': { name: 'On hold', glyph: { background: '#64748b', label: '‖' } },
  clock: { name: 'Time', glyph: { background: '#0f766e', label: '◷' } },
  calendar: { name: 'Date', glyph: { background: '#0e7490', label: '▦' } },
  dollar: { name: 'Cost', glyph: { background: '#166534', label: '$' } },
  'arrow-up': { name: 'Up', glyph: { background: '#1d4ed8', label: '↑' } },
  'arrow-down': { name: 'Down', glyph: { background: '#1d4ed8', label: '↓' } },
  'arrow-right': { name: 'Next', glyph: { background: '#1d4ed8', label: '→' } },
  information: { name: 'Information', glyph: { background: '#0369a1', label: 'i' } },
  rocket: { name: 'Launch', glyph: { background: '#c2410c', label: '▲' } },
  key: { name: 'Key', glyph: { background: '#854d0e', label: '⚷' } },
};

export const ICON_CATALOG: readonly CatalogIcon[] = [
  ...Object.keys(FLAG_COLORS).map((color) => ({
    id: `flag-${color}`,
    name: `${color.charAt(0).toUpperCase()}${color.slice(1)} flag`,
  })),
  ...Object.entries(SYMBOLS).map(([id, { name }]) => ({ id, name })),
];

/** How an icon id is drawn: known markers by their glyph, unknown ones (`mmap:Foo`) by their first letter. */
export function iconGlyph(icon: string): IconGlyph {
  const priority = /^priority-(\d)$/.exec(icon);
  if (priority) return { background: '#dc2626', label: priority[1]! };
  const progress = /^progress-(\d+)$/.exec(icon);
  if (progress) return { background: '#d1d5db', progress: Number(progress[1]) };
  const flag = /^flag-(\w+)$/.exec(icon);
  if (flag) return { background: FLAG_COLORS[flag[1]!] ?? '#6b7280', label: '⚑' };
  const symbol = SYMBOLS[icon];
  if (symbol) return symbol.glyph;
  const name = icon.replace(/^[a-z]+:/, '');
  return { background: '#6b7280', label: name.charAt(0).toUpperCase() };
}

/** A readable name for any icon id, for the panel's chips and the screen reader. */
export function iconName(icon: string): string {
  const known = ICON_CATALOG.find((c) => c.id === icon);
  if (known) return known.name;
  const priority = /^priority-(\d)$/.exec(icon);
  if (priority) return `Priority ${priority[1]}`;
  const progress = /^progress-(\d+)$/.exec(icon);
  if (progress) return `${progress[1]}% done`;
  return icon.replace(/^[a-z]+:/, '').replace(/[-_]/g, ' ');
}
