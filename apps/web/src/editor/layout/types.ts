import type { Topic } from '@canopy/model';
import type { Point, Rect, Size } from './geometry.ts';

export type LayoutKind = 'map' | 'tree' | 'org';

/** Which way a topic's branch grows from its parent; decides where connectors attach. */
export type BranchSide = 'root' | 'right' | 'left' | 'down';

/** Measures a topic's box (text, image, icons, padding) at its depth. Injected so layouts stay pure. */
export type MeasureTopic = (topic: Topic, depth: number) => Size;

export interface TopicBox extends Rect {
  readonly id: string;
  readonly topic: Topic;
  readonly depth: number;
  readonly parentId: string | null;
  readonly side: BranchSide;
  /** Number of topics hidden under this one because it is collapsed (0 when expanded). */
  readonly hiddenCount: number;
  readonly floating: boolean;
}

/** A connector from a parent box to a child box, with the points it attaches at. */
export interface Connector {
  readonly parentId: string;
  readonly childId: string;
  readonly from: Point;
  readonly to: Point;
  readonly side: BranchSide;
}

export interface MapLayout {
  readonly kind: LayoutKind;
  /** In drawing order: parents before their children. */
  readonly boxes: readonly TopicBox[];
  readonly connectors: readonly Connector[];
  readonly byId: ReadonlyMap<string, TopicBox>;
  /** Bounding rectangle of every box; the central topic is centred on (0, 0). */
  readonly bounds: Rect;
}

export interface LayoutSpacing {
  /** Horizontal gap between a parent and its children in the horizontal layouts. */
  readonly levelGap: number;
  /** Extra horizontal gap between the central topic and its main topics. */
  readonly rootGap: number;
  /** Vertical gap between siblings in the horizontal layouts. */
  readonly siblingGap: number;
  /** Vertical gap between levels in the org chart. */
  readonly orgLevelGap: number;
  /** Horizontal gap between siblings in the org chart. */
  readonly orgSiblingGap: number;
  /** Gap between the main map and floating topics placed without a position. */
  readonly floatingGap: number;
}

export const DEFAULT_SPACING: LayoutSpacing = {
  levelGap: 36,
  rootGap: 44,
  siblingGap: 10,
  orgLevelGap: 36,
  orgSiblingGap: 14,
  floatingGap: 80,
};
