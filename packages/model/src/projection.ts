/**
 * The JSON view of a Loro map. It enforces the document invariants whatever the merged state holds:
 * one central topic, each live topic shown exactly once under its one parent, siblings in the tree's total order,
 * unique topic ids, relationships only between shown topics, boundary and summary ranges inside the children.
 */
import { LoroText, type LoroDoc, type LoroMap, type TreeID } from 'loro-crdt';
import {
  DOCUMENT_SCHEMA_VERSION,
  type Boundary,
  type MapDocument,
  type Relationship,
  type TextRun,
  type Topic,
} from './document.ts';
import {
  KEY_CENTRAL_ID,
  ROOT_DOCUMENT,
  ROOT_META,
  ROOT_RELATIONSHIPS,
  ROOT_TITLE,
  RUN_STYLE_KEYS,
  type SummaryFlag,
} from './loro-layout.ts';

/** A node as `LoroTree.toJSON()` returns it. */
export interface RawTopicNode {
  id: TreeID;
  parent: TreeID | null;
  meta: Record<string, unknown>;
  children: RawTopicNode[];
}

export interface Projection {
  document: MapDocument;
  /** Shown topic id to its tree node. */
  topicNodes: Map<string, TreeID>;
  /** Shown topic id to its object in `document`. */
  topics: Map<string, Topic>;
  /** The node shown as the central topic, if the tree has any node. */
  centralNode: TreeID | undefined;
}

type Range = { from: number; to: number };
type Summary = NonNullable<Topic['summaries']>[number];

/** A tree node as the view walks it: structure only, its fields come from `NodeFields`. */
export interface ViewNode {
  id: TreeID;
  children: ViewNode[];
}

/** A node's map as plain JSON, and its rich runs when its `richText` flag is set. */
export interface NodeFields {
  meta: Record<string, unknown>;
  runs: TextRun[] | undefined;
}

/** Map-level state read from the root containers other than the tree. */
export interface MapLevel {
  title: string;
  meta: Record<string, unknown>;
  relationships: Record<string, unknown>;
  centralId: unknown;
}

export function readMapLevel(doc: LoroDoc): MapLevel {
  return {
    title: doc.getText(ROOT_TITLE).toString(),
    meta: doc.getMap(ROOT_META).toJSON() as Record<string, unknown>,
    relationships: doc.getMap(ROOT_RELATIONSHIPS).toJSON() as Record<string, unknown>,
    centralId: doc.getMap(ROOT_DOCUMENT).get(KEY_CENTRAL_ID),
  };
}

export function readNodeFields(data: LoroMap, meta = data.toJSON() as Record<string, unknown>): NodeFields {
  return { meta, runs: meta.richText === true ? readRuns(data.get('text')) : undefined };
}

/** Builds the JSON document from the forest's roots (in order), each node's fields and the map-level state. */
export function assembleDocument(
  roots: readonly ViewNode[],
  fieldsOf: (node: TreeID) => NodeFields | undefined,
  mapLevel: MapLevel,
): Projection {
  const central = roots.find((node) => node.id === mapLevel.centralId) ?? roots[0];
  const projector = new TopicProjector(fieldsOf);
  const root: Topic = central ? projector.topic(central) : { id: 'central', text: '', children: [] };
  const floating = roots.filter((node) => node !== central).map((node) => projector.topic(node));
  const document: MapDocument = {
    schemaVersion: DOCUMENT_SCHEMA_VERSION,
    title: mapLevel.title,
    root,
    floating,
    relationships: projectRelationships(mapLevel.relationships, projector.topicNodes),
  };
  const meta = projectMeta(mapLevel.meta);
  if (meta) document.meta = meta;
  return { document, topicNodes: projector.topicNodes, topics: projector.topics, centralNode: central?.id };
}

class TopicProjector {
  readonly topicNodes = new Map<string, TreeID>();
  readonly topics = new Map<string, Topic>();

  constructor(private readonly fieldsOf: (node: TreeID) => NodeFields | undefined) {}

  topic(node: ViewNode): Topic {
    const fields = this.fieldsOf(node.id);
    const meta = fields?.meta ?? {};
    const topic: Topic = { id: this.claim(meta.id, node.id), text: str(meta.text), children: [] };
    this.topics.set(topic.id, topic);
    if (fields?.runs) topic.richText = fields.runs;
    const notes = str(meta.notesHtml);
    if (notes !== '') topic.notesHtml = notes;
    copyList(topic, 'links', meta.links);
    copyList(topic, 'icons', unique(meta.icons));
    copyList(topic, 'tags', unique(meta.tags));
    copyList(topic, 'attachments', meta.attachments);
    copyRecord(topic, 'task', meta.task);
    copyRecord(topic, 'style', meta.style);
    if (isRecord(meta.image)) topic.image = meta.image as Topic['image'];
    if (typeof meta.collapsed === 'boolean') topic.collapsed = meta.collapsed;
    if (isRecord(meta.position)) topic.position = meta.position as Topic['position'];

    const summaries: { flag: SummaryFlag; topic: Topic }[] = [];
    for (const child of node.children) {
      const flag = readSummaryFlag(this.fieldsOf(child.id)?.meta.summary);
      if (flag) summaries.push({ flag, topic: this.topic(child) });
      else topic.children.push(this.topic(child));
    }
    const count = topic.children.length;
    const shownSummaries: Summary[] = [];
    for (const { flag, topic: summaryTopic } of summaries) {
      const range = clampRange(flag, count);
      if (range) shownSummaries.push({ id: flag.id, range, topic: summaryTopic });
    }
    if (shownSummaries.length > 0) topic.summaries = shownSummaries;
    const boundaries: Boundary[] = [];
    for (const boundary of Array.isArray(meta.boundaries) ? (meta.boundaries as Boundary[]) : []) {
      const range = isRecord(boundary) ? clampRange(boundary.range, count) : undefined;
      if (range) boundaries.push({ ...boundary, range });
    }
    if (boundaries.length > 0) topic.boundaries = boundaries;
    return topic;
  }

  /** The first node in view order keeps a duplicated id; later ones get one derived from their node. */
  private claim(id: unknown, node: TreeID): string {
    let claimed = typeof id === 'string' && id !== '' ? id : `~${node}`;
    while (this.topicNodes.has(claimed)) claimed = `${claimed}~${node}`;
    this.topicNodes.set(claimed, node);
    return claimed;
  }
}

function readRuns(text: unknown): TextRun[] {
  if (!(text instanceof LoroText)) return [];
  const delta = text.toDelta() as { insert?: unknown; attributes?: Record<string, unknown> }[];
  return delta.flatMap((op) => {
    if (typeof op.insert !== 'string') return [];
    const run: Record<string, unknown> = { text: op.insert };
    for (const key of RUN_STYLE_KEYS) {
      const value = op.attributes?.[key];
      if (value !== undefined && value !== null) run[key] = value;
    }
    return [run as TextRun];
  });
}

function projectRelationships(
  raw: Record<string, unknown>,
  shown: ReadonlyMap<string, TreeID>,
): Relationship[] {
  const relationships: Relationship[] = [];
  for (const id of Object.keys(raw).sort()) {
    const value = raw[id];
    if (!isRecord(value)) continue;
    const { fromId, toId } = value;
    if (typeof fromId !== 'string' || typeof toId !== 'string' || !shown.has(fromId) || !shown.has(toId))
      continue;
    const relationship: Relationship = { id, fromId, toId };
    if (typeof value.label === 'string') relationship.label = value.label;
    if (typeof value.color === 'string') relationship.color = value.color;
    if (typeof value.dashed === 'boolean') relationship.dashed = value.dashed;
    relationships.push(relationship);
  }
  return relationships;
}

function projectMeta(raw: Record<string, unknown>): Record<string, string> | undefined {
  const meta: Record<string, string> = {};
  for (const key of Object.keys(raw).sort()) {
    const value = raw[key];
    if (typeof value === 'string') meta[key] = value;
  }
  return Object.keys(meta).length > 0 ? meta : undefined;
}

export function readSummaryFlag(value: unknown): SummaryFlag | undefined {
  if (!isRecord(value)) return undefined;
  const { id, from, to } = value;
  if (typeof id !== 'string' || !Number.isInteger(from) || !Number.isInteger(to)) return undefined;
  return { id, from: from as number, to: to as number };
}

/** Ranges are child indices; concurrent moves and deletes can leave them past the end, so they are clamped. */
function clampRange(range: unknown, count: number): Range | undefined {
  if (!isRecord(range) || count === 0) return undefined;
  const { from, to } = range;
  if (!Number.isInteger(from) || !Number.isInteger(to)) return undefined;
  const clamped = { from: Math.min(from as number, count - 1), to: Math.min(to as number, count - 1) };
  return clamped.from <= clamped.to && clamped.from >= 0 ? clamped : undefined;
}

function copyList<K extends 'links' | 'icons' | 'tags' | 'attachments'>(
  topic: Topic,
  key: K,
  value: unknown,
): void {
  if (Array.isArray(value) && value.length > 0) topic[key] = value as Topic[K];
}

function copyRecord<K extends 'task' | 'style'>(topic: Topic, key: K, value: unknown): void {
  if (isRecord(value) && Object.keys(value).length > 0) topic[key] = value;
}

/** Icons and tags are sets shown in first-added order: two replicas adding the same one show it once. */
function unique(value: unknown): unknown {
  return Array.isArray(value) ? [...new Set(value)] : value;
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
