import type { MapDocument, Topic } from '@canopy/model';
import type { MeasureTopic } from '../layout/types.ts';

/** A topic tree from a compact spec: `['Root', ['A', ['A1'], ['A2']], ['B']]`, ids equal to the texts. */
export type Spec = [string, ...Spec[]];

export function topicFrom([text, ...children]: Spec): Topic {
  return { id: text, text, children: children.map(topicFrom) };
}

export function docFrom(spec: Spec, extra: Partial<MapDocument> = {}): MapDocument {
  return {
    schemaVersion: 1,
    title: spec[0],
    root: topicFrom(spec),
    floating: [],
    relationships: [],
    ...extra,
  };
}

/** Boxes 10 units per character wide, 20 high (root 40): easy to reason about in assertions. */
export const fixedMeasure: MeasureTopic = (topic, depth) => ({
  width: 20 + topic.text.length * 10,
  height: depth === 0 ? 40 : 20,
});
