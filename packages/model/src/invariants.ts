/**
 * The invariants every `MapDocument` the model hands out must satisfy, whatever merges produced it.
 * `checkInvariants` returns every violation found; an empty list means the document is sound.
 */
import { Value } from '@sinclair/typebox/value';
import { MapDocumentSchema, type MapDocument, type Topic } from './document.ts';

export type InvariantRule =
  /** The document matches `MapDocumentSchema`. */
  | 'schema'
  /** Each topic object appears once: no cycles, no topic shown under two parents. */
  | 'reachable-once'
  /** Topic ids are unique across the central topic, floating topics and summary topics. */
  | 'unique-topic-id'
  /** Rich runs concatenate to the topic text. */
  | 'rich-text'
  /** Boundary and summary ranges name existing children, `from <= to`. */
  | 'range'
  /** Relationship ids are unique and both ends name shown topics. */
  | 'relationship';

export interface InvariantViolation {
  rule: InvariantRule;
  /** Where, as a JSON-path-like string (`root.children[2].summaries[0]`). */
  path: string;
  message: string;
}

export function checkInvariants(doc: MapDocument): InvariantViolation[] {
  const violations: InvariantViolation[] = [];
  // Before the schema check, which would recurse forever on a cycle.
  const repeated = findRepeatedTopic(doc);
  if (repeated)
    return [
      { rule: 'reachable-once', path: repeated, message: 'topic reached twice (cycle or shared subtree)' },
    ];
  if (!Value.Check(MapDocumentSchema, doc)) {
    for (const error of Value.Errors(MapDocumentSchema, doc)) {
      violations.push({ rule: 'schema', path: error.path, message: error.message });
      if (violations.length >= 20) break;
    }
    return violations;
  }
  const ids = new Set<string>();
  const visit = (topic: Topic, path: string): void => {
    if (ids.has(topic.id)) {
      violations.push({ rule: 'unique-topic-id', path, message: `duplicate topic id ${topic.id}` });
    }
    ids.add(topic.id);
    if (topic.richText && topic.richText.map((run) => run.text).join('') !== topic.text) {
      violations.push({ rule: 'rich-text', path, message: 'rich runs do not concatenate to the text' });
    }
    const count = topic.children.length;
    const checkRange = (range: { from: number; to: number }, where: string): void => {
      if (range.from > range.to || range.to >= count) {
        violations.push({
          rule: 'range',
          path: where,
          message: `range ${range.from}..${range.to} of ${count} children`,
        });
      }
    };
    topic.boundaries?.forEach((boundary, i) => checkRange(boundary.range, `${path}.boundaries[${i}]`));
    topic.children.forEach((child, i) => visit(child, `${path}.children[${i}]`));
    topic.summaries?.forEach((summary, i) => {
      checkRange(summary.range, `${path}.summaries[${i}]`);
      visit(summary.topic, `${path}.summaries[${i}].topic`);
    });
  };
  visit(doc.root, 'root');
  doc.floating.forEach((topic, i) => visit(topic, `floating[${i}]`));

  const relationshipIds = new Set<string>();
  doc.relationships.forEach((relationship, i) => {
    const path = `relationships[${i}]`;
    if (relationshipIds.has(relationship.id)) {
      violations.push({
        rule: 'relationship',
        path,
        message: `duplicate relationship id ${relationship.id}`,
      });
    }
    relationshipIds.add(relationship.id);
    for (const end of [relationship.fromId, relationship.toId]) {
      if (!ids.has(end)) violations.push({ rule: 'relationship', path, message: `no topic ${end}` });
    }
  });
  return violations;
}

/** The path of the first topic object met twice, walking whatever shape `doc` has. */
function findRepeatedTopic(doc: unknown): string | undefined {
  const seen = new Set<object>();
  const stack: { value: unknown; path: string }[] = [];
  if (typeof doc !== 'object' || doc === null) return undefined;
  const { root, floating } = doc as { root?: unknown; floating?: unknown };
  if (Array.isArray(floating)) floating.forEach((value, i) => stack.push({ value, path: `floating[${i}]` }));
  stack.push({ value: root, path: 'root' });
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { value, path } = item;
    if (typeof value !== 'object' || value === null) continue;
    if (seen.has(value)) return path;
    seen.add(value);
    const { children, summaries } = value as { children?: unknown; summaries?: unknown };
    if (Array.isArray(children))
      children.forEach((child, i) => stack.push({ value: child, path: `${path}.children[${i}]` }));
    if (Array.isArray(summaries)) {
      summaries.forEach((summary, i) => {
        const summaryTopic =
          typeof summary === 'object' && summary !== null
            ? (summary as { topic?: unknown }).topic
            : undefined;
        stack.push({ value: summaryTopic, path: `${path}.summaries[${i}].topic` });
      });
    }
  }
  return undefined;
}
