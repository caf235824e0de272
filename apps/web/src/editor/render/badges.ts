import type { Rect } from '../layout/geometry.ts';
import type { LayoutKind, TopicBox } from '../layout/types.ts';

/** The badge on a collapsed topic, on the side its children would grow: where it is drawn and clicked. */
export function collapsedBadge(box: TopicBox, kind: LayoutKind): Rect & { label: string } {
  const label = box.hiddenCount > 999 ? '999+' : String(box.hiddenCount);
  const width = Math.max(20, label.length * 7 + 10);
  const height = 18;
  if (box.side === 'down' || (box.side === 'root' && kind === 'org')) {
    return { label, width, height, x: box.x + box.width / 2 - width / 2, y: box.y + box.height + 4 };
  }
  const y = box.y + box.height / 2 - height / 2;
  if (box.side === 'left') return { label, width, height, x: box.x - width - 4, y };
  return { label, width, height, x: box.x + box.width + 4, y };
}
