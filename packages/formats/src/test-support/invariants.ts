/** The model's cross-field rules, checked on every document an importer returns (tests only). */
import type { MapDocument, Topic } from '@canopy/model';

export function invariantViolations(document: MapDocument): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  const topicIds = new Set<string>();
  const claim = (id: string, what: string): void => {
    if (ids.has(id)) problems.push(`duplicate id ${id} (${what})`);
    ids.add(id);
  };
  const topics: Topic[] = [];
  const walk = (topic: Topic): void => {
    claim(topic.id, 'topic');
    topicIds.add(topic.id);
    topics.push(topic);
    topic.children.forEach(walk);
    for (const s of topic.summaries ?? []) walk(s.topic);
  };
  walk(document.root);
  document.floating.forEach(walk);
  for (const topic of topics) {
    for (const b of topic.boundaries ?? []) {
      claim(b.id, 'boundary');
      if (b.range.from > b.range.to || b.range.to >= topic.children.length)
        problems.push(`boundary ${b.id} out of range`);
    }
    for (const s of topic.summaries ?? []) {
      claim(s.id, 'summary');
      if (s.range.from > s.range.to || s.range.to >= topic.children.length)
        problems.push(`summary ${s.id} out of range`);
    }
    for (const l of topic.links ?? [])
      if (l.kind === 'topic' && !topicIds.has(l.topicId)) problems.push(`link to missing ${l.topicId}`);
    if (topic.richText && topic.richText.map((r) => r.text).join('') !== topic.text)
      problems.push(`rich text of ${topic.id} does not spell its text`);
  }
  for (const r of document.relationships) {
    claim(r.id, 'relationship');
    if (!topicIds.has(r.fromId) || !topicIds.has(r.toId))
      problems.push(`relationship ${r.id} to a missing topic`);
  }
  return problems;
}
