/**
 * Checks a whole Loro map against the layout (loro-layout.ts), the field schemas and the limits.
 * Used before a remote update or a stored snapshot is accepted: states that only a buggy or hostile peer can
 * produce are refused here, so the operations and the JSON view may rely on the layout.
 *
 * What valid concurrent operations can produce (moves, deletes, duplicated ids after an undo) is never refused:
 * the JSON view resolves it. The limits are the exception: two replicas each under a cap can merge above it.
 */
import { LoroMap, LoroText, type LoroDoc, type LoroTreeNode, type TreeID } from 'loro-crdt';
import { Type } from '@sinclair/typebox';
import { DOCUMENT_SCHEMA_VERSION } from './document.ts';
import { FIELD_SCHEMAS, SummaryFlagSchema, isFieldName, schemaProblem } from './field-schemas.ts';
import {
  MAX_META_ENTRIES,
  MAX_NOTES_LENGTH,
  MAX_RELATIONSHIPS,
  MAX_SHORT_STRING_LENGTH,
  MAX_TEXT_LENGTH,
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
  type TextKey,
  countLiveTopics,
  depthOf,
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

/**
 * What an import changed, as its events report it. With a scope only the changed parts are checked (the rest was
 * valid before); without one the whole state is.
 */
export interface ChangeScope {
  /** Nodes created or moved (a move can revive a deleted subtree): their subtrees and depth are checked. */
  placed: Set<TreeID>;
  /** Nodes whose data changed. */
  edited: Set<TreeID>;
  /**
   * Nodes of which only the content of a text field (`text`, `notesHtml`) changed: the node's map is as it was,
   * so only those texts are checked (length, and style marks when the topic is rich text), not the whole node.
   */
  texts: Map<TreeID, Set<TextKey>>;
  relationships: Set<string>;
  /** The title or the meta map changed. */
  mapLevel: boolean;
  /** The document map or the tree's structure (create, move, delete) changed: the central topic is rechecked. */
  structure: boolean;
  /** Root containers written to that the layout does not have (wrong name or type). */
  foreignRoots: Set<string>;
  /** An upper bound of the live topics (deletes are not subtracted); counted exactly only when above the cap. */
  topicBound: number;
}

/** Every problem found (at most 20); an empty list means the state is acceptable. */
export function validateState(doc: LoroDoc, scope?: ChangeScope): string[] {
  const problems = new ProblemList();
  // Listing the roots materialises the document's shallow value (tens of ms for a large map): scoped checks use
  // the names the import's events reported instead.
  const roots = scope ? [...scope.foreignRoots] : foreignRootContainers(doc);
  for (const name of roots) problems.add(`root container ${name.slice(0, 40)} is not part of the layout`);
  if (problems.items.length > 0) return problems.items;
  // Only the document map and the tree's structure decide whether the central topic is valid: an edit of a
  // topic's fields (most of the updates a server admits) cannot break it.
  if (!scope || scope.structure) validateDocumentMap(doc, problems);
  if (scope) {
    if (scope.mapLevel) validateTitleAndMeta(doc, problems);
    validateRelationships(doc, problems, scope.relationships);
    validateChangedTopics(doc, problems, scope);
  } else {
    validateTitleAndMeta(doc, problems);
    validateRelationships(doc, problems);
    validateTopics(doc, problems);
  }
  return problems.items;
}

function foreignRootContainers(doc: LoroDoc): string[] {
  return Object.entries(doc.getShallowValue())
    .filter(([name, cid]) => cid !== expectedRootId(name))
    .map(([name]) => name);
}

/** The container id of a root container of the layout, or undefined for a name the layout does not have. */
export function expectedRootId(name: string): string | undefined {
  const kind = ROOT_KINDS[name];
  return ROOT_CONTAINER_NAMES.has(name) && kind ? `cid:root-${name}:${kind}` : undefined;
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

function validateTitleAndMeta(doc: LoroDoc, problems: ProblemList): void {
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
}

function validateRelationships(doc: LoroDoc, problems: ProblemList, only?: ReadonlySet<string>): void {
  const relationships = doc.getMap(ROOT_RELATIONSHIPS);
  if (relationships.size > MAX_RELATIONSHIPS) problems.add(`relationships: more than ${MAX_RELATIONSHIPS}`);
  const ids = only ?? (relationships.keys() as string[]);
  for (const id of ids) {
    if (problems.full) return;
    const where = `relationships.${id.slice(0, 40)}`;
    const value: unknown = relationships.get(id);
    if (value === undefined && only) continue;
    if (id.length > MAX_SHORT_STRING_LENGTH || !(value instanceof LoroMap)) {
      problems.add(`${where}: must be a map container`);
    } else {
      problems.add(schemaProblem(RelationshipValueSchema, value.toJSON(), where));
    }
  }
}

function validateChangedTopics(doc: LoroDoc, problems: ProblemList, scope: ChangeScope): void {
  const tree = topicsTree(doc);
  if (scope.topicBound > MAX_TOPICS) {
    scope.topicBound = countLiveTopics(tree);
    if (scope.topicBound > MAX_TOPICS) return problems.add(`more than ${MAX_TOPICS} topics`);
  }
  // Structure first (depth), then the data of every placed or edited node.
  const toCheck = new Map<TreeID, LoroTreeNode>();
  for (const id of scope.placed) {
    const top = tree.getNodeByID(id);
    if (!top || top.isDeleted() || toCheck.has(id)) continue;
    const stack = [{ node: top, depth: depthOf(top) }];
    for (let item = stack.pop(); item; item = stack.pop()) {
      if (item.depth > MAX_TOPIC_DEPTH) return problems.add(`topics nested deeper than ${MAX_TOPIC_DEPTH}`);
      toCheck.set(item.node.id, item.node);
      for (const child of item.node.children() ?? []) stack.push({ node: child, depth: item.depth + 1 });
    }
  }
  for (const id of scope.edited) {
    const node = tree.getNodeByID(id);
    if (node && !node.isDeleted()) toCheck.set(id, node);
  }
  for (const [id, node] of toCheck) {
    if (problems.full) return;
    validateNode(node.data, id, problems);
  }
  for (const [id, keys] of scope.texts) {
    if (problems.full || toCheck.has(id)) continue;
    const node = tree.getNodeByID(id);
    if (node && !node.isDeleted()) validateTexts(node.data, id, keys, problems);
  }
}

/** The texts of a valid topic after only their content changed: what `validateTopicData` checks of them. */
function validateTexts(data: LoroMap, id: TreeID, keys: ReadonlySet<TextKey>, problems: ProblemList): void {
  for (const key of keys) {
    const text: unknown = data.get(key);
    if (!(text instanceof LoroText)) {
      problems.add(`topic ${id}.${key}: must be a text container`);
      continue;
    }
    // `length` counts UTF-16 units, as the schema's maxLength does; the schema words the problem.
    if (text.length > (key === 'text' ? MAX_TEXT_LENGTH : MAX_NOTES_LENGTH))
      problems.add(schemaProblem(FIELD_SCHEMAS[key], text.toString(), `topic ${id}.${key}`));
    if (key === 'text' && data.get('richText') === true) problems.add(runStyleProblem(text, `topic ${id}`));
  }
}

function validateNode(data: LoroMap, id: TreeID, problems: ProblemList): void {
  validateTopicData(data, id, data.toJSON() as Record<string, unknown>, problems);
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
    const data = tree.getNodeByID(node.id)?.data;
    if (data) validateTopicData(data, node.id, node.meta, problems);
    for (const child of node.children) stack.push({ node: child, depth: depth + 1 });
  }
}

function validateTopicData(
  data: LoroMap,
  node: TreeID,
  meta: Record<string, unknown>,
  problems: ProblemList,
): void {
  const where = `topic ${node}`;
  const shallow = data.getShallowValue();
  for (const key of Object.keys(shallow)) {
    if (!TOPIC_KEYS.has(key)) problems.add(`${where}.${key.slice(0, 40)}: not a topic field`);
  }
  const id = meta.id;
  if (typeof id !== 'string' || id === '' || id.length > MAX_SHORT_STRING_LENGTH) {
    problems.add(`${where}.id: must be a non-empty short string`);
  }
  for (const key of TEXT_KEYS) {
    if (!isContainerRef(shallow[key], 'Text', meta[key]) && !readsAsOwnId(data, key, shallow[key], meta[key]))
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
 * A text whose content is its own container id shows the same in the shallow and the deep value, as a plain
 * value would: only the map itself tells them apart (rare, so asked only then).
 */
function readsAsOwnId(data: LoroMap, key: string, shallow: unknown, deep: unknown): boolean {
  return typeof shallow === 'string' && shallow === deep && data.get(key) instanceof LoroText;
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
