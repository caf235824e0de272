import type { Topic } from '@canopy/model';
import { describe, expect, it } from 'vitest';
import { ICON_CATALOG, iconGlyph, iconName } from './icons.ts';
import { drawIndicators, indicatorRects } from './indicators.ts';
import { TextLayoutCache } from './textLayout.ts';
import { topicIndicators, TopicVisuals } from './topicStyle.ts';

const visuals = () => new TopicVisuals(new TextLayoutCache((_font, text) => text.length * 8));
const plain: Topic = { id: 't', text: 'Budget', children: [] };

describe('topic indicators', () => {
  it('marks notes, links, tags, and task details that have no icon of their own', () => {
    expect(topicIndicators(plain)).toEqual([]);
    expect(
      topicIndicators({
        ...plain,
        notesHtml: '<p>n</p>',
        links: [{ kind: 'url', url: 'https://e.org' }],
        tags: ['q3'],
        task: { dueDate: '2026-01-01' },
      }),
    ).toEqual(['notes', 'link', 'tags', 'task']);
    // Priority and progress are drawn as icons before the text: no second task badge.
    expect(topicIndicators({ ...plain, task: { priority: 1, dueDate: '2026-01-01' } })).toEqual([]);
    expect(topicIndicators({ ...plain, tags: [], links: [] })).toEqual([]);
  });

  it('widens the topic for its indicators and places them after the text, inside the box', () => {
    const v = visuals();
    const before = v.get(plain, 2);
    const after = v.get({ ...plain, notesHtml: '<p>n</p>', tags: ['a'] }, 2);
    expect(after.size.width).toBeGreaterThan(before.size.width + 2 * 14);
    expect(after.size.height).toBe(before.size.height);
    const box = { x: 100, y: 50, ...after.size };
    const rects = indicatorRects(box, after);
    expect(rects.map((r) => r.indicator)).toEqual(['notes', 'tags']);
    for (const { rect } of rects) {
      expect(rect.x).toBeGreaterThanOrEqual(box.x);
      expect(rect.x + rect.width).toBeLessThanOrEqual(box.x + box.width);
      expect(rect.y).toBeGreaterThanOrEqual(box.y);
      expect(rect.y + rect.height).toBeLessThanOrEqual(box.y + box.height);
    }
    expect(rects[1]!.rect.x).toBeGreaterThan(rects[0]!.rect.x);
  });

  it('draws one tile per indicator with its glyph', () => {
    const v = visuals().get({ ...plain, links: [{ kind: 'topic', topicId: 'x' }], tags: ['a'] }, 2);
    const calls: string[] = [];
    const ctx = new Proxy(
      {},
      {
        get:
          (_t, name) =>
          (...args: unknown[]) => {
            calls.push(`${String(name)}${name === 'fillText' ? `:${String(args[0])}` : ''}`);
          },
        set: () => true,
      },
    ) as unknown as CanvasRenderingContext2D;
    drawIndicators(ctx, { x: 0, y: 0, ...v.size }, v, '#2e6fbd');
    expect(calls.filter((c) => c === 'roundRect')).toHaveLength(2);
    expect(calls.filter((c) => c.startsWith('fillText'))).toEqual(['fillText:↗', 'fillText:#']);
  });
});

describe('icon catalogue', () => {
  it('has unique canonical ids, each with a drawn glyph and a readable name', () => {
    const ids = ICON_CATALOG.map((i) => i.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(/^[a-z]+(-[a-z0-9]+)*$/);
      expect(iconGlyph(id).label).toBeTruthy();
      expect(iconName(id)).not.toBe(id);
    }
  });

  it('still draws and names icons it does not know (imported with a prefix)', () => {
    expect(iconGlyph('mmap:Bomb').label).toBe('B');
    expect(iconName('mmap:Two-Feet')).toBe('Two Feet');
    expect(iconName('priority-3')).toBe('Priority 3');
  });
});
