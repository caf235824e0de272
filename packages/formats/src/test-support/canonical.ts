/** Compares documents up to id renaming: ids are replaced by tree paths, references follow them. */
import type { MapDocument, Topic } from '@canopy/model';

export function canonicalDocument(document: MapDocument, options: { keepTitle?: boolean } = {}): unknown {
  const paths = new Map<string, string>();
  const label = (topic: Topic, path: string): void => {
    paths.set(topic.id, path);
    topic.children.forEach((child, i) => label(child, `${path}.${i}`));
    topic.summaries?.forEach((s, i) => label(s.topic, `${path}.s${i}`));
  };
  label(document.root, 'r');
  document.floating.forEach((f, i) => label(f, `f${i}`));
  const ref = (id: string): string => paths.get(id) ?? `missing:${id}`;
  const topic = (t: Topic): unknown => {
    const { id: _id, children, summaries, boundaries, links, ...rest } = t;
    return {
      ...rest,
      ...(links
        ? { links: links.map((l) => (l.kind === 'topic' ? { ...l, topicId: ref(l.topicId) } : l)) }
        : {}),
      ...(boundaries ? { boundaries: boundaries.map(({ id: _b, ...b }) => b) } : {}),
      ...(summaries
        ? { summaries: summaries.map(({ id: _s, topic: st, ...s }) => ({ ...s, topic: topic(st) })) }
        : {}),
      children: children.map(topic),
    };
  };
  return {
    ...(options.keepTitle ? { title: document.title } : {}),
    root: topic(document.root),
    floating: document.floating.map(topic),
    relationships: document.relationships.map(({ id: _r, fromId, toId, ...r }) => ({
      ...r,
      fromId: ref(fromId),
      toId: ref(toId),
    })),
  };
}
