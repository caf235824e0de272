import { containsPoint, type Point } from '../layout/geometry.ts';
import type { TopicBox } from '../layout/types.ts';
import { indicatorRects } from '../render/indicators.ts';
import type { Indicator, TopicVisual } from '../render/topicStyle.ts';

/**
 * The badge (notes, link, tags, task) of `box` under a world point, if any: the same rects the renderer draws,
 * so a click lands where the tile is seen.
 */
export function indicatorAt(box: TopicBox, visual: TopicVisual, p: Point): Indicator | undefined {
  return indicatorRects(box, visual).find(({ rect }) => containsPoint(rect, p))?.indicator;
}
