/**
 * Test helpers: random operations on replicas of a map (fast-check), as the property tests use them. Used only
 * by tests.
 */
import fc from 'fast-check';
import type { MapDocument, Topic } from './document.ts';
import { ModelError } from './errors.ts';
import { MindMap } from './mind-map.ts';

export type Op =
  | { kind: 'add'; at: number; parent: number; index: number; text: string }
  | { kind: 'move'; at: number; topic: number; parent: number; index: number }
  | { kind: 'delete'; at: number; topic: number }
  | { kind: 'text'; at: number; topic: number; text: string }
  | { kind: 'edit'; at: number; topic: number; offset: number; insert: string }
  | { kind: 'notes'; at: number; topic: number; text: string }
  | { kind: 'task'; at: number; topic: number; priority: number }
  | { kind: 'tag'; at: number; topic: number; tag: string }
  | { kind: 'relate'; at: number; topic: number; other: number }
  | { kind: 'unrelate'; at: number; pick: number }
  | { kind: 'boundary'; at: number; topic: number }
  | { kind: 'summary'; at: number; topic: number }
  | { kind: 'undo'; at: number }
  | { kind: 'redo'; at: number }
  | { kind: 'deliver'; at: number; message: number };

const small = fc.nat({ max: 50 });
const word = fc.string({ maxLength: 4 });

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('add' as const),
      at: small,
      parent: small,
      index: small,
      text: word,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('move' as const),
      at: small,
      topic: small,
      parent: small,
      index: small,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: small, topic: small }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('text' as const), at: small, topic: small, text: word }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('edit' as const),
      at: small,
      topic: small,
      offset: small,
      insert: word,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('notes' as const), at: small, topic: small, text: word }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('task' as const),
      at: small,
      topic: small,
      priority: fc.integer({ min: 1, max: 9 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('tag' as const),
      at: small,
      topic: small,
      tag: fc.constantFrom('a', 'b', 'c'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('relate' as const), at: small, topic: small, other: small }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unrelate' as const), at: small, pick: small }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('boundary' as const), at: small, topic: small }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('summary' as const), at: small, topic: small }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('undo' as const), at: small }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('redo' as const), at: small }) },
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant('deliver' as const), at: small, message: fc.nat() }),
  },
);

/** Every topic id a replica shows, central first, in view order (summary topics included). */
export function topicIds(doc: MapDocument): string[] {
  const ids: string[] = [];
  const visit = (topic: Topic): void => {
    ids.push(topic.id);
    topic.children.forEach(visit);
    topic.summaries?.forEach((summary) => visit(summary.topic));
  };
  visit(doc.root);
  doc.floating.forEach(visit);
  return ids;
}

export const pick = <T>(items: readonly T[], n: number): T | undefined =>
  items.length === 0 ? undefined : items[n % items.length];

/** Applies `op` at one replica; operations the model refuses there (a ModelError) are skipped, as a UI would. */
export function apply(map: MindMap, op: Exclude<Op, { kind: 'deliver' }>): void {
  const view = map.toJSON();
  const ids = topicIds(view);
  const topic = 'topic' in op ? pick(ids, op.topic)! : view.root.id;
  try {
    switch (op.kind) {
      case 'add': {
        const parent = op.parent % 7 === 6 ? null : pick(ids, op.parent)!;
        map.addTopic(parent, op.index % 4, { text: op.text });
        break;
      }
      case 'move': {
        const parent = op.parent % 7 === 6 ? null : pick(ids, op.parent)!;
        map.moveTopic(topic, parent, op.index % 4);
        break;
      }
      case 'delete':
        map.deleteTopic(topic);
        break;
      case 'text':
        map.setText(topic, op.text);
        break;
      case 'edit': {
        const length = findTopic(view, topic).text.length;
        map.editText(topic, op.offset % (length + 1), 0, op.insert);
        break;
      }
      case 'notes':
        map.setNotes(topic, `${findTopic(view, topic).notesHtml ?? ''}<p>${op.text}</p>`);
        break;
      case 'task':
        map.updateTask(topic, { priority: op.priority });
        break;
      case 'tag':
        map.addTag(topic, op.tag);
        break;
      case 'relate':
        map.addRelationship({ fromId: topic, toId: pick(ids, op.other)! });
        break;
      case 'unrelate': {
        const relationship = pick(view.relationships, op.pick);
        if (relationship) map.removeRelationship(relationship.id);
        break;
      }
      case 'boundary': {
        const count = findTopic(view, topic).children.length;
        if (count > 0) map.addBoundary(topic, { range: { from: 0, to: count - 1 } });
        break;
      }
      case 'summary': {
        const count = findTopic(view, topic).children.length;
        if (count > 0) map.addSummary(topic, { from: count - 1, to: count - 1 }, { text: 'sum' });
        break;
      }
      case 'undo':
        map.undo();
        break;
      case 'redo':
        map.redo();
        break;
    }
  } catch (error) {
    if (!(error instanceof ModelError)) throw error;
  }
}

export function findTopic(doc: MapDocument, id: string): Topic {
  const stack: Topic[] = [doc.root, ...doc.floating];
  for (let topic = stack.pop(); topic; topic = stack.pop()) {
    if (topic.id === id) return topic;
    stack.push(...topic.children, ...(topic.summaries ?? []).map((summary) => summary.topic));
  }
  throw new Error(`no topic ${id}`);
}

export function deliver(map: MindMap, update: Uint8Array): void {
  const result = map.importUpdates(update);
  if (!result.ok) throw new Error(`update refused: ${result.error.problems.join('; ')}`);
}

export function seedMap(): MindMap {
  const map = MindMap.create('prop', { peerId: 99 });
  const root = map.centralTopicId();
  const a = map.addTopic(root, undefined, { text: 'A' });
  const b = map.addTopic(root, undefined, { text: 'B' });
  map.addTopic(a, undefined, { text: 'A1' });
  map.addTopic(b, undefined, { text: 'B1' });
  map.addTopic(null, undefined, { text: 'F' });
  return map;
}

/** Scripts that are mostly typing (which a server admits from its operations), with the other operations among it. */
export const mostlyTypingArb: fc.Arbitrary<Op[]> = fc.array(
  fc.oneof(
    { weight: 1, arbitrary: opArb },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('edit' as const),
        at: fc.nat({ max: 50 }),
        topic: fc.nat({ max: 3 }),
        offset: fc.nat({ max: 50 }),
        insert: fc.string({ minLength: 1, maxLength: 3 }),
      }),
    },
  ),
  { minLength: 5, maxLength: 80 },
);

/** Plays `script` on `replicas`; returns every update they sent, in the order they sent them. */
export function playScript(replicas: readonly MindMap[], script: readonly Op[]): Uint8Array[] {
  const sent: Uint8Array[] = [];
  const offs = replicas.map((replica) => replica.onLocalUpdate((update) => sent.push(update)));
  for (const op of script) {
    const replica = replicas[op.at % replicas.length]!;
    if (op.kind === 'deliver') {
      const update = sent[op.message % Math.max(1, sent.length)];
      if (update) replica.importUpdates(update);
    } else {
      apply(replica, op);
    }
  }
  for (const off of offs) off();
  return sent;
}

/** Each of `sent` twice, late or early by up to `window` places (0: in order; 50: about any order). */
export function jittered(
  sent: readonly Uint8Array[],
  window: number,
  jitter: readonly number[],
): Uint8Array[] {
  return [...sent, ...sent]
    .map((update, i) => ({ update, at: i + (jitter[i % jitter.length]! % (window + 1)) }))
    .sort((x, y) => x.at - y.at)
    .map(({ update }) => update);
}
