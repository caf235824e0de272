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
