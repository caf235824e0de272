import type { MapDocument, Topic } from '@canopy/model';
import { forEachTopic } from './document-builder.ts';

type TopicField = Exclude<keyof Topic, 'id' | 'text' | 'children'>;

/** Warnings for the topic fields (and relationships, floating topics) a target format cannot hold. */
export function droppedFieldWarnings(
  document: MapDocument,
  unsupported: readonly TopicField[],
  format: string,
): string[] {
  const counts = new Map<string, number>();
  forEachTopic(document, (topic) => {
    for (const field of unsupported) {
      const value = topic[field];
      if (value === undefined || (Array.isArray(value) && value.length === 0)) continue;
      counts.set(field, (counts.get(field) ?? 0) + 1);
    }
  });
  const out = [...counts].map(
    ([field, n]) => `${format}: ${field} of ${n} topic${n === 1 ? '' : 's'} dropped`,
  );
  return out;
}
