/**
 * The Loro layout of a map (schema version 1). The only file besides the readers and writers that knows it.
 *
 * Root containers:
 * - `document` (Map): `schemaVersion` (number), `centralId` (TreeID of the central topic's node).
 * - `title` (Text), `meta` (Map of string to string), `relationships` (Map: relationship id to a Map of its fields).
 * - `topics` (Tree): every topic is a tree node. The central topic and the floating topics are the forest's roots;
 *   the one named by `document.centralId` is the central topic, every other root is a floating topic.
 *   A summary's topic is a child node of the topic that holds the summary, flagged by its `summary` value.
 *
 * A topic's node map holds `id` (the stable JSON id) and its fields. The containers that can be edited
 * concurrently are created in the same commit as the node, so two replicas' first edits land in the same
 * container instead of racing to create it (a Map keeps one of two concurrently set containers).
 */
import {
  LoroMap,
  LoroMovableList,
  LoroText,
  type LoroDoc,
  type LoroTree,
  type LoroTreeNode,
  type TreeID,
} from 'loro-crdt';
import type { Topic } from './document.ts';

export const ROOT_TOPICS = 'topics';
export const ROOT_DOCUMENT = 'document';
export const ROOT_TITLE = 'title';
export const ROOT_META = 'meta';
export const ROOT_RELATIONSHIPS = 'relationships';
export const ROOT_CONTAINER_NAMES: ReadonlySet<string> = new Set([
  ROOT_TOPICS,
  ROOT_DOCUMENT,
  ROOT_TITLE,
  ROOT_META,
  ROOT_RELATIONSHIPS,
]);

export const KEY_SCHEMA_VERSION = 'schemaVersion';
export const KEY_CENTRAL_ID = 'centralId';

export const TEXT_KEYS = ['text', 'notesHtml'] as const;
export const LIST_KEYS = ['links', 'icons', 'tags', 'attachments', 'boundaries'] as const;
export const MAP_KEYS = ['task', 'style'] as const;
/** Plain values, last writer wins. `richText` is a flag: the runs themselves are marks on the `text` container. */
export const VALUE_KEYS = ['id', 'richText', 'image', 'collapsed', 'position', 'summary'] as const;
export const TOPIC_KEYS: ReadonlySet<string> = new Set([
  ...TEXT_KEYS,
  ...LIST_KEYS,
  ...MAP_KEYS,
  ...VALUE_KEYS,
]);

export type TextKey = (typeof TEXT_KEYS)[number];
export type ListKey = (typeof LIST_KEYS)[number];
export type MapKey = (typeof MAP_KEYS)[number];

/** Text marks that carry `TextRun` styles; all extend to text typed right after them. */
export const RUN_STYLE_KEYS = [
  'bold',
  'italic',
  'underline',
  'strike',
  'color',
  'fontFamily',
  'fontSize',
] as const;
export type RunStyleKey = (typeof RUN_STYLE_KEYS)[number];

/** The fields of a topic that an operation can set: everything but its id and its children. */
export type TopicFields = Partial<Omit<Topic, 'id' | 'children' | 'summaries'>>;

/** A summary's topic carries this value: which children of its parent it summarises. */
export interface SummaryFlag {
  id: string;
  from: number;
  to: number;
}

export const topicsTree = (doc: LoroDoc): LoroTree => doc.getTree(ROOT_TOPICS);

/** Live nodes, counted from the tree's shallow value (cheaper than its deep one). */
export function countLiveTopics(tree: LoroTree): number {
  let count = 0;
  const stack: { children: unknown[] }[] = [...tree.getShallowValue()];
  for (let node = stack.pop(); node; node = stack.pop()) {
    count++;
    stack.push(...(node.children as { children: unknown[] }[]));
  }
  return count;
}

/** 1 for the central topic and floating topics. */
export function depthOf(node: LoroTreeNode): number {
  let depth = 1;
  for (let at = node.parent(); at; at = at.parent()) depth++;
  return depth;
}

/** Loro does not persist text-style configuration: every document handle must be configured. */
export function configureDoc(doc: LoroDoc): void {
  const styles: Record<string, { expand: 'after' }> = {};
  for (const key of RUN_STYLE_KEYS) styles[key] = { expand: 'after' };
  doc.configTextStyle(styles);
}

/** Creates a topic node with all its containers, then writes `fields`. */
export function createTopicNode(
  tree: LoroTree,
  parent: TreeID | undefined,
  loroIndex: number | undefined,
  id: string,
  fields: TopicFields,
): TreeID {
  const node = tree.createNode(parent, loroIndex);
  const data = node.data;
  data.set('id', id);
  for (const key of TEXT_KEYS) attach(data, key, new LoroText());
  for (const key of LIST_KEYS) attach(data, key, new LoroMovableList());
  for (const key of MAP_KEYS) attach(data, key, new LoroMap());
  writeFields(data, fields);
  const nodeId = node.id;
  data.free();
  node.free();
  return nodeId;
}

/**
 * Sets a new container under `key`. Both handles (the detached one and the attached one Loro returns) are freed
 * at once: left to the garbage collector, the ten or so handles per topic made large `fromJSON` calls spend
 * most of their time in finalization.
 */
function attach(data: LoroMap, key: string, child: LoroText | LoroMovableList | LoroMap): void {
  const attached = data.setContainer(key, child);
  attached.free();
  child.free();
}

export function textOf(data: LoroMap, key: TextKey): LoroText {
  const value: unknown = data.get(key);
  if (value instanceof LoroText) return value;
  throw new Error(`topic field ${key} is not a text container`);
}

export function listOf(data: LoroMap, key: ListKey): LoroMovableList {
  const value: unknown = data.get(key);
  if (value instanceof LoroMovableList) return value;
  throw new Error(`topic field ${key} is not a list container`);
}

export function mapOf(data: LoroMap, key: MapKey): LoroMap {
  const value: unknown = data.get(key);
  if (value instanceof LoroMap) return value as LoroMap;
  throw new Error(`topic field ${key} is not a map container`);
}

/** Writes the fields present in `fields` (a present key with `undefined` clears that field). */
export function writeFields(data: LoroMap, fields: TopicFields): void {
  const has = (key: keyof TopicFields): boolean => Object.prototype.hasOwnProperty.call(fields, key);
  if (has('richText') && fields.richText !== undefined) {
    writeRichText(data, fields.richText);
  } else {
    if (has('text')) textOf(data, 'text').update(fields.text ?? '');
    if (has('richText')) clearRichText(data);
  }
  if (has('notesHtml')) textOf(data, 'notesHtml').update(fields.notesHtml ?? '');
  for (const key of LIST_KEYS) if (has(key)) writeList(listOf(data, key), fields[key] ?? []);
  if (has('task')) writeMap(mapOf(data, 'task'), fields.task ?? {});
  if (has('style')) writeMap(mapOf(data, 'style'), fields.style ?? {});
  if (has('image')) writeValue(data, 'image', fields.image);
  if (has('collapsed')) writeValue(data, 'collapsed', fields.collapsed);
  if (has('position')) writeValue(data, 'position', fields.position);
}

export function writeRichText(data: LoroMap, runs: NonNullable<Topic['richText']>): void {
  const text = textOf(data, 'text');
  text.update(runs.map((run) => run.text).join(''));
  unmarkAll(text);
  let at = 0;
  for (const run of runs) {
    const end = at + run.text.length;
    if (end > at) {
      for (const key of RUN_STYLE_KEYS) {
        const value = run[key];
        if (value !== undefined && value !== false) text.mark({ start: at, end }, key, value);
      }
    }
    at = end;
  }
  if (data.get('richText') !== true) data.set('richText', true);
}

function clearRichText(data: LoroMap): void {
  unmarkAll(textOf(data, 'text'));
  if (data.get('richText') !== undefined) data.delete('richText');
}

function unmarkAll(text: LoroText): void {
  if (text.length === 0) return;
  for (const key of RUN_STYLE_KEYS) text.unmark({ start: 0, end: text.length }, key);
}

/** Rewrites a list with the fewest edits (common prefix and suffix kept), so concurrent edits elsewhere survive. */
export function writeList(list: LoroMovableList, items: readonly unknown[]): void {
  const current = (list.toJSON() as unknown[]).map((item) => JSON.stringify(item));
  const next = items.map((item) => JSON.stringify(item));
  let prefix = 0;
  while (prefix < current.length && prefix < next.length && current[prefix] === next[prefix]) prefix++;
  let suffix = 0;
  while (
    suffix < current.length - prefix &&
    suffix < next.length - prefix &&
    current[current.length - 1 - suffix] === next[next.length - 1 - suffix]
  ) {
    suffix++;
  }
  const removed = current.length - prefix - suffix;
  if (removed > 0) list.delete(prefix, removed);
  for (let i = prefix; i < next.length - suffix; i++) list.insert(i, plain(items[i]));
}

/** Sets each key that changed and deletes each key that is gone; other keys are left to concurrent writers. */
export function writeMap(map: LoroMap, values: object): void {
  const entries = Object.entries(values).filter(([, value]) => value !== undefined);
  const wanted = new Set(entries.map(([key]) => key));
  for (const key of map.keys() as string[]) if (!wanted.has(key)) map.delete(key);
  for (const [key, value] of entries) {
    if (JSON.stringify(map.get(key)) !== JSON.stringify(value)) map.set(key, plain(value));
  }
}

export function writeValue(data: LoroMap, key: string, value: unknown): void {
  if (value === undefined) {
    if (data.get(key) !== undefined) data.delete(key);
  } else if (JSON.stringify(data.get(key)) !== JSON.stringify(value)) {
    data.set(key, plain(value));
  }
}

/** A JSON copy: Loro stores plain values, and callers' objects must not be aliased or carry `undefined`. */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
