/** Checks a JSON `MapDocument` for `MindMap.fromJSON` and writes it into an empty Loro document. */
import { LoroDoc, LoroMap, type TreeID } from 'loro-crdt';
import { DOCUMENT_SCHEMA_VERSION, type MapDocument, type Relationship, type Topic } from './document.ts';
import { fail, ok, type ModelResult } from './errors.ts';
import { fieldsProblems, isFieldName } from './field-schemas.ts';
import { checkInvariants } from './invariants.ts';
import {
  MAX_META_ENTRIES,
  MAX_RELATIONSHIPS,
  MAX_SHORT_STRING_LENGTH,
  MAX_TITLE_LENGTH,
  MAX_TOPIC_DEPTH,
  MAX_TOPICS,
} from './limits.ts';
import {
  KEY_CENTRAL_ID,
  KEY_SCHEMA_VERSION,
  ROOT_DOCUMENT,
  ROOT_META,
  ROOT_RELATIONSHIPS,
  ROOT_TITLE,
  createTopicNode,
  topicsTree,
  type TopicFields,
} from './loro-layout.ts';

/**
 * Structural faults make a document unusable; dangling relationships and out-of-range boundaries or summaries
 * are tolerated (files from other applications have them): the JSON view hides or clamps them.
 */
const FATAL_RULES = new Set(['schema', 'reachable-once', 'unique-topic-id', 'rich-text']);

export function checkSeed(input: MapDocument): ModelResult<MapDocument> {
  if (typeof input === 'object' && input !== null && input.schemaVersion > DOCUMENT_SCHEMA_VERSION) {
    return fail(
      'unsupported-schema-version',
      `document schema version ${input.schemaVersion} is newer than ${DOCUMENT_SCHEMA_VERSION}`,
    );
  }
  const problems = checkInvariants(input)
    .filter((violation) => FATAL_RULES.has(violation.rule))
    .map((violation) => `${violation.path}: ${violation.message}`);
  if (problems.length > 0)
    return fail('invalid-document', `invalid document: ${problems[0] ?? ''}`, problems);

  const limits: string[] = [];
  if (input.title.length > MAX_TITLE_LENGTH) limits.push(`title: longer than ${MAX_TITLE_LENGTH}`);
  if (input.relationships.length > MAX_RELATIONSHIPS)
    limits.push(`relationships: more than ${MAX_RELATIONSHIPS}`);
  const meta = Object.entries(input.meta ?? {});
  if (meta.length > MAX_META_ENTRIES) limits.push(`meta: more than ${MAX_META_ENTRIES} entries`);
  for (const [key, value] of meta) {
    if (key.length > MAX_SHORT_STRING_LENGTH || value.length > MAX_SHORT_STRING_LENGTH)
      limits.push(`meta.${key.slice(0, 40)}: too long`);
  }
  let count = 0;
  const visit = (topic: Topic, depth: number, path: string): void => {
    count++;
    if (depth > MAX_TOPIC_DEPTH) limits.push(`${path}: nested deeper than ${MAX_TOPIC_DEPTH}`);
    if (limits.length >= 20 || depth > MAX_TOPIC_DEPTH) return;
    limits.push(...fieldsProblems(fieldsOf(topic), path));
    topic.children.forEach((child, i) => visit(child, depth + 1, `${path}.children[${i}]`));
    topic.summaries?.forEach((summary, i) =>
      visit(summary.topic, depth + 1, `${path}.summaries[${i}].topic`),
    );
  };
  visit(input.root, 1, 'root');
  input.floating.forEach((topic, i) => visit(topic, 1, `floating[${i}]`));
  if (count > MAX_TOPICS) limits.push(`more than ${MAX_TOPICS} topics`);
  if (limits.length > 0)
    return fail('limit-exceeded', `document exceeds limits: ${limits[0] ?? ''}`, limits.slice(0, 20));
  return ok(input);
}

/**
 * Writing a topic takes about 18 KB of Loro's WebAssembly heap while the seed's transaction is open. Left to
 * itself the heap grows a few pages at a time, and every growth makes V8 account the whole (new) memory buffer
 * as external memory again: thousands of growths, each a full garbage collection once the heap is large, made
 * `fromJSON` quadratic (4,000 topics: ~200 collections). Seeds at least this large reserve the heap up front.
 */
const HEAP_BYTES_PER_TOPIC = 20 * 1024;
const RESERVE_FROM_TOPICS = 2_000;

export function seedDocument(doc: LoroDoc, input: MapDocument): void {
  const topics = countTopics(input);
  if (topics >= RESERVE_FROM_TOPICS) reserveWasmHeap(topics * HEAP_BYTES_PER_TOPIC);
  const document = doc.getMap(ROOT_DOCUMENT);
  document.set(KEY_SCHEMA_VERSION, DOCUMENT_SCHEMA_VERSION);
  doc.getText(ROOT_TITLE).insert(0, input.title);
  const meta = doc.getMap(ROOT_META);
  for (const [key, value] of Object.entries(input.meta ?? {})) meta.set(key, value);

  const tree = topicsTree(doc);
  const central = seedTopic(tree, undefined, input.root);
  document.set(KEY_CENTRAL_ID, central);
  for (const topic of input.floating) seedTopic(tree, undefined, topic);

  const relationships = doc.getMap(ROOT_RELATIONSHIPS);
  for (const relationship of input.relationships)
    writeRelationship(relationships.setContainer(relationship.id, new LoroMap()), relationship);
}

function seedTopic(tree: ReturnType<typeof topicsTree>, parent: TreeID | undefined, topic: Topic): TreeID {
  const node = createTopicNode(tree, parent, undefined, topic.id, fieldsOf(topic));
  for (const child of topic.children) seedTopic(tree, node, child);
  for (const summary of topic.summaries ?? []) {
    const summaryNode = seedTopic(tree, node, summary.topic);
    tree
      .getNodeByID(summaryNode)
      ?.data.set('summary', { id: summary.id, from: summary.range.from, to: summary.range.to });
  }
  return node;
}

export function writeRelationship(fields: LoroMap, relationship: Partial<Omit<Relationship, 'id'>>): void {
  for (const key of ['fromId', 'toId', 'label', 'color', 'dashed'] as const) {
    if (!Object.hasOwn(relationship, key)) continue;
    const value = relationship[key];
    if (value === undefined) fields.delete(key);
    else if (fields.get(key) !== value) fields.set(key, value);
  }
}

/** The settable fields of a JSON topic; properties the schema does not know are dropped. */
export function fieldsOf(topic: Topic): TopicFields {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(topic))
    if (isFieldName(key) && value !== undefined) fields[key] = value;
  return fields;
}

function countTopics(input: MapDocument): number {
  let count = 0;
  const stack: Topic[] = [input.root, ...input.floating];
  for (let topic = stack.pop(); topic; topic = stack.pop()) {
    count++;
    stack.push(...topic.children);
    for (const summary of topic.summaries ?? []) stack.push(summary.topic);
  }
  return count;
}

/**
 * Makes Loro's WebAssembly allocator hold at least `bytes` of free heap in one piece, with one growth of its
 * memory instead of thousands: the only public call that allocates an arbitrary size inside the module is an
 * import, whose input buffer is copied in and freed when the import fails (these bytes are not a Loro encoding:
 * the header check refuses them at once).
 */
function reserveWasmHeap(bytes: number): void {
  const scratch = new LoroDoc();
  try {
    scratch.import(new Uint8Array(bytes));
  } catch {
    // Expected: the point was the allocation, which is freed before the error is returned.
  } finally {
    scratch.free();
  }
}
