import type { Topic } from '@canopy/model';
import { describe, expect, it } from 'vitest';
import type { TopicBox } from '../layout/types.ts';
import { indicatorRects } from '../render/indicators.ts';
import { TextLayoutCache } from '../render/textLayout.ts';
import { TopicVisuals } from '../render/topicStyle.ts';
import { indicatorAt } from './indicatorHit.ts';

const topic: Topic = { id: 't', text: 'Budget', children: [], notesHtml: '<p>n</p>', tags: ['q3'] };
const visual = new TopicVisuals(new TextLayoutCache((_font, text) => text.length * 8)).get(topic, 2);
const box: TopicBox = {
  id: 't',
  topic,
  depth: 2,
  parentId: 'root',
  side: 'right',
  hiddenCount: 0,
  floating: false,
  x: 100,
  y: 50,
  ...visual.size,
};

describe('indicatorAt', () => {
  it('finds the badge under the point, and nothing on the text or beside the badges', () => {
    const [notes, tags] = indicatorRects(box, visual);
    const centre = (r: { x: number; y: number; width: number; height: number }) => ({
      x: r.x + r.width / 2,
      y: r.y + r.height / 2,
    });
    expect(indicatorAt(box, visual, centre(notes!.rect))).toBe('notes');
    expect(indicatorAt(box, visual, centre(tags!.rect))).toBe('tags');
    expect(indicatorAt(box, visual, { x: box.x + 4, y: centre(notes!.rect).y })).toBeUndefined();
    expect(indicatorAt(box, visual, { x: centre(notes!.rect).x, y: box.y - 5 })).toBeUndefined();
  });
});
