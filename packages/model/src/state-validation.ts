/**
 * Checks a whole Loro map against the layout (loro-layout.ts), the field schemas and the limits.
 * Used before a remote update or a stored snapshot is accepted: states that only a buggy or hostile peer can
 * produce are refused here, so the operations and the JSON view may rely on the layout.
 *
 * What valid concurrent operations can produce (moves, deletes, duplicated ids after an undo) is never refused:
 * the JSON view resolves it. The limits are the exception: two replicas each under a cap can merge above it.
 */
import { LoroText, type LoroDoc, type TreeID } from 'loro-crdt';
import { Type } from '@sinclair/typebox';
import { DOCUMENT_SCHEMA_VERSION } from './document.ts';
import { FIELD_SCHEMAS, SummaryFlagSchema, isFieldName, schemaProblem } from './field-schemas.ts';
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
  LIST_KEYS,
  MAP_KEYS,
  ROOT_CONTAINER_NAMES,
  ROOT_DOCUMENT,
  ROOT_META,
  ROOT_RELATIONSHIPS,
  ROOT_TITLE,
  RUN_STYLE_KEYS,
  TEXT_KEYS,
  TOPIC_KEYS,
  topicsTree,
} from './loro-layout.ts';
import { isRecord, type RawTopicNode } from './projection.ts';

const MAX_PROBLEMS = 20;

const RelationshipValueSchema = Type.Object(
  {
    fromId: Type.String({ maxLength: MAX_SHORT_STRING_LENGTH }),
    toId: Type.String({ maxLength: MAX_SHORT_STRING_LENGTH }),
    label: Type.Optional(Type.String({ maxLength: MAX_SHORT_STRING_LENGTH })),
    color: Type.Optional(Type.String({ maxLength: MAX_SHORT_STRING_LENGTH })),
    dashed: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const ROOT_KINDS: Record<string, string> = {
  topics: 'Tree',
  document: 'Map',
  title: 'Text',
  meta: 'Map',
  relationships: 'Map',
};

class ProblemList {
  readonly items: string[] = [];
  add(problem: string | undefined): void {
    if (problem !== undefined && this.items.length < MAX_PROBLEMS) this.items.push(problem);
  }
  get full(): boolean {
    return this.items.length >= MAX_PROBLEMS;
  }
}

/** Every problem found (at most 20); an empty list means the state is acceptable. */
export function validateState(doc: LoroDoc): string[] {
  const problems = new ProblemList();
  for (const [name, cid] of Object.entries(doc.getShallowValue())) {
    if (!ROOT_CONTAINER_NAMES.has(name)) problems.add(`root container ${name} is not part of the layout`);
    else if (cid !== `cid:root-${name}:${ROOT_KINDS[name] ?? ''}`)
      problems.add(`root container ${name} has the wrong type`);
  }
  if (problems.items.length > 0) return problems.items;
  validateDocumentMap(doc, problems);
  validateMapLevel(doc, problems);
  validateTopics(doc, problems);
  return problems.items;
}

function validateDocumentMap(doc: LoroDoc, problems: ProblemList): void {
  const map = doc.getMap(ROOT_DOCUMENT);
  for (const key of map.keys() as string[]) {
    if (key !== KEY_SCHEMA_VERSION && key !== KEY_CENTRAL_ID)
      problems.add(`document.${key} is not part of the layout`);
  }
  const version: unknown = map.get(KEY_SCHEMA_VERSION);
  if (version !== DOCUMENT_SCHEMA_VERSION) {
    problems.add(`document.schemaVersion is ${String(version)}, expected ${DOCUMENT_SCHEMA_VERSION}`);
  }
  const centralId: unknown = map.get(KEY_CENTRAL_ID);
  const tree = topicsTree(doc);
  const central = typeof centralId === 'string' ? tree.getNodeByID(centralId as TreeID) : undefined;
  if (!central || central.isDeleted()) problems.add('document.centralId does not name a live topic');
  else if (central.parent() !== undefined) problems.add('the central topic has a parent');
}

function validateMapLevel(doc: LoroDoc, problems: ProblemList): void {
  if (doc.getText(ROOT_TITLE).length > MAX_TITLE_LENGTH)
    problems.add(`title: longer than ${MAX_TITLE_LENGTH}`);
  const meta = doc.getMap(ROOT_META).getShallowValue();
  const metaKeys = Object.keys(meta);
  if (metaKeys.length > MAX_META_ENTRIES) problems.add(`meta: more than ${MAX_META_ENTRIES} entries`);
  for (const key of metaKeys) {
    const value = meta[key];
    if (
      key.length > MAX_SHORT_STRING_LENGTH ||
      typeof value !== 'string' ||
      value.length > MAX_SHORT_STRING_LENGTH
    ) {
      problems.add(`meta.${key.slice(0, 40)}: must be a short string`);
    }
  }
  const relationships = doc.getMap(ROOT_RELATIONSHIPS);
  const shallow = relationships.getShallowValue();
  const values = relationships.toJSON() as Record<string, unknown>;
  const ids = Object.keys(shallow);
  if (ids.length > MAX_RELATIONSHIPS) problems.add(`relationships: more than ${MAX_RELATIONSHIPS}`);
  for (const id of ids) {
    if (problems.full) return;
    const where = `relationships.${id.slice(0, 40)}`;
    if (id.length > MAX_SHORT_STRING_LENGTH || !isContainerRef(shallow[id], 'Map', values[id])) {
      problems.add(`${where}: must be a map container`);
    } else {
      problems.add(schemaProblem(RelationshipValueSchema, values[id], where));
    }
  }
}

function validateTopics(doc: LoroDoc, problems: ProblemList): void {
  const tree = topicsTree(doc);
  const stack: { node: RawTopicNode; depth: number }[] = (tree.toJSON() as RawTopicNode[]).map((node) => ({
    node,
    depth: 1,
  }));
  let count = 0;
  while (stack.length > 0 && !problems.full) {
    const { node, depth } = stack.pop()!;
    count++;
    if (count > MAX_TOPICS) return problems.add(`more than ${MAX_TOPICS} topics`);
    if (depth > MAX_TOPIC_DEPTH) return problems.add(`topics nested deeper than ${MAX_TOPIC_DEPTH}`);
    validateTopicData(doc, node, problems);
    for (const child of node.children) stack.push({ node: child, depth: depth + 1 });
  }
}

function validateTopicData(doc: LoroDoc, node: RawTopicNode, problems: ProblemList): void {
  const where = `topic ${node.id}`;
  const data = topicsTree(doc).getNodeByID(node.id)?.data;
  if (!data) return problems.add(`${where}: no data`);
  const shallow = data.getShallowValue();
  const meta = node.meta;
  for (const key of Object.keys(shallow)) {
    if (!TOPIC_KEYS.has(key)) problems.add(`${where}.${key.slice(0, 40)}: not a topic field`);
  }
  const id = meta.id;
  if (typeof id !== 'string' || id === '' || id.length > MAX_SHORT_STRING_LENGTH) {
    problems.add(`${where}.id: must be a non-empty short string`);
  }
  for (const key of TEXT_KEYS) {
    if (!isContainerRef(shallow[key], 'Text', meta[key]))
      problems.add(`${where}.${key}: must be a text container`);
  }
  for (const key of LIST_KEYS) {
    if (!isContainerRef(shallow[key], 'MovableList', meta[key]))
      problems.add(`${where}.${key}: must be a list container`);
  }
  for (const key of MAP_KEYS) {
    if (!isContainerRef(shallow[key], 'Map', meta[key]))
      problems.add(`${where}.${key}: must be a map container`);
  }
  for (const key of Object.keys(meta)) {
    const value = meta[key];
    if (isFieldName(key) && key !== 'richText')
      problems.add(schemaProblem(FIELD_SCHEMAS[key], value, `${where}.${key}`));
  }
  if (meta.richText !== undefined && typeof meta.richText !== 'boolean')
    problems.add(`${where}.richText: must be a flag`);
  if (meta.richText === true) {
    const text: unknown = data.get('text');
    if (text instanceof LoroText) problems.add(runStyleProblem(text, where));
  }
  if (meta.summary !== undefined) {
    const problem = schemaProblem(SummaryFlagSchema, meta.summary, `${where}.summary`);
    problems.add(problem);
    if (!problem && isRecord(meta.summary) && (meta.summary.from as number) > (meta.summary.to as number)) {
      problems.add(`${where}.summary: from > to`);
    }
  }
}

function runStyleProblem(text: LoroText, where: string): string | undefined {
  for (const op of text.toDelta()) {
    for (const [key, value] of Object.entries(op.attributes ?? {})) {
      const expected =
        key === 'fontSize' ? 'number' : key === 'color' || key === 'fontFamily' ? 'string' : 'boolean';
      if (!(RUN_STYLE_KEYS as readonly string[]).includes(key) || typeof value !== expected) {
        return `${where}.text: unknown style mark ${key.slice(0, 40)}`;
      }
    }
  }
  return undefined;
}

/**
 * A container shows as its id in a shallow value and as its content in a deep one. A plain value that only looks
 * like a container id shows the same in both, which is how it is told apart.
 */
function isContainerRef(shallow: unknown, kind: string, deep: unknown): boolean {
  if (typeof shallow !== 'string' || !shallow.startsWith('cid:') || !shallow.endsWith(`:${kind}`))
    return false;
  if (kind === 'Text') return typeof deep === 'string' && deep !== shallow;
  return kind === 'MovableList' ? Array.isArray(deep) : isRecord(deep);
}
