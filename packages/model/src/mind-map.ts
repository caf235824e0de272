/**
 * `MindMap`: one replica of a map, and the only way the rest of Canopy edits one. Loro stays behind this API.
 *
 * Operations throw `ModelError` (code `topic-not-found`, `invalid-operation`, `invalid-field`, `limit-exceeded`)
 * for calls that cannot apply; they never leave a half-applied operation. Each operation is one commit (one update
 * to send, one undo step) unless it runs inside `batch`.
 */
import type { TSchema } from '@sinclair/typebox';
import { LoroMap, type LoroDoc, type LoroTreeNode } from 'loro-crdt';
import {
  DOCUMENT_SCHEMA_VERSION,
  RelationshipSchema,
  type Boundary,
  type MapDocument,
  type Relationship,
  type Task,
  type TextRun,
  type TopicStyle,
} from './document.ts';
import { ModelError, fail, ok, type ModelResult } from './errors.ts';
import { FIELD_SCHEMAS, fieldsProblems, schemaProblem } from './field-schemas.ts';
import {
  MAX_RELATIONSHIPS,
  MAX_SNAPSHOT_BYTES,
  MAX_TEXT_LENGTH,
  MAX_TITLE_LENGTH,
  MAX_TOPIC_DEPTH,
  MAX_TOPICS,
  MAX_SHORT_STRING_LENGTH,
} from './limits.ts';
import {
  ROOT_META,
  ROOT_RELATIONSHIPS,
  ROOT_TITLE,
  createTopicNode,
  depthOf,
  listOf,
  mapOf,
  textOf,
  writeFields,
  type TopicFields,
} from './loro-layout.ts';
import { randomId } from './ids.ts';
import { MapCore, type MindMapOptions } from './map-core.ts';
import { migrateToCurrent } from './migrations.ts';
import { checkSeed, seedDocument, writeRelationship } from './document-seed.ts';
import { validateState } from './state-validation.ts';

export type ChildRange = { from: number; to: number };
export type NewRelationship = Omit<Relationship, 'id'>;
export type NewBoundary = Omit<Boundary, 'id'>;

export class MindMap extends MapCore {
  /** Set by `fromSnapshot` when it migrated the document: the schema version it was stored with. */
  migratedFrom: number | undefined;

  /** A new map whose central topic reads `title`. */
  static create(title = '', options: MindMapOptions = {}): MindMap {
    const createId = options.createId;
    const input: MapDocument = {
      schemaVersion: DOCUMENT_SCHEMA_VERSION,
      title,
      root: { id: (createId ?? randomId)(), text: title, children: [] },
      floating: [],
      relationships: [],
    };
    return MindMap.fromJSON(input, options);
  }

  /** A new map holding `input`; throws `ModelError` (`invalid-document`, `limit-exceeded`, ...) if it cannot. */
  static fromJSON(input: MapDocument, options: MindMapOptions = {}): MindMap {
    const checked = checkSeed(input);
    if (!checked.ok) throw checked.error;
    const doc = MapCore.newDoc(options.peerId);
    seedDocument(doc, checked.value);
    doc.commit({ origin: 'sys:seed' });
    return new MindMap(doc, options);
  }

  /** A map from stored bytes (a snapshot, or all updates): migrated to the current schema, then validated. */
  static fromSnapshot(bytes: Uint8Array, options: MindMapOptions = {}): ModelResult<MindMap> {
    if (!(bytes instanceof Uint8Array)) return fail('malformed-update', 'a snapshot must be a Uint8Array');
    if (bytes.byteLength > MAX_SNAPSHOT_BYTES)
      return fail('limit-exceeded', `snapshot exceeds ${MAX_SNAPSHOT_BYTES} bytes`);
    let doc: LoroDoc;
    try {
      doc = MapCore.newDoc(options.peerId);
      if (doc.import(bytes).pending != null)
        return fail('malformed-update', 'the snapshot depends on updates it lacks');
    } catch (error) {
      if (error instanceof ModelError) return { ok: false, error };
      return fail('malformed-update', `not a Loro snapshot: ${String(error).slice(0, 200)}`);
    }
    const migrated = migrateToCurrent(doc);
    if (!migrated.ok) return migrated;
    const problems = validateState(doc);
    if (problems.length > 0)
      return fail('schema-violation', `invalid snapshot: ${problems[0] ?? ''}`, problems);
    const map = new MindMap(doc, options);
    if (migrated.value.from !== migrated.value.to) map.migratedFrom = migrated.value.from;
    return ok(map);
  }

  // ---- topics --------------------------------------------------------------------------------------------

  centralTopicId(): string {
    return this.toJSON().root.id;
  }

  /** Adds a topic under `parentId` (null: a floating topic) at `index` among its siblings (default: last). */
  addTopic(parentId: string | null, index?: number, fields: TopicFields = {}): string {
    checkFields(fields);
    const parent = parentId === null ? undefined : this.node(parentId);
    if (this.topicCount() >= MAX_TOPICS)
      throw new ModelError('limit-exceeded', `a map holds at most ${MAX_TOPICS} topics`);
    if (parent && depthOf(parent) + 1 > MAX_TOPIC_DEPTH)
      throw new ModelError('limit-exceeded', `topics nest at most ${MAX_TOPIC_DEPTH} deep`);
    const id = this.createId();
    const node = createTopicNode(this.tree, parent?.id, this.loroIndex(parent, index), id, fields);
    this.indexTopic(id, node);
    this.changed();
    return id;
  }

  /**
   * Moves a topic (and its subtree) under `newParentId` (null: makes it floating) at `index` among the new
   * siblings. Concurrent moves that would form a cycle are resolved by the tree CRDT: one of them is ignored.
   * A summary's topic that is moved becomes an ordinary topic.
   */
  moveTopic(id: string, newParentId: string | null, index?: number): void {
    const node = this.node(id);
    if (node.id === this.centralNode())
      throw new ModelError('invalid-operation', 'the central topic cannot be moved');
    const parent = newParentId === null ? undefined : this.node(newParentId);
    for (let at = parent; at; at = at.parent()) {
      if (at.id === node.id)
        throw new ModelError('invalid-operation', 'a topic cannot move into its own subtree');
    }
    if ((parent ? depthOf(parent) : 0) + heightOf(node) > MAX_TOPIC_DEPTH) {
      throw new ModelError('limit-exceeded', `topics nest at most ${MAX_TOPIC_DEPTH} deep`);
    }
    if (node.data.get('summary') !== undefined) node.data.delete('summary');
    this.tree.move(node.id, parent?.id, this.loroIndex(parent, index, node.id));
    this.changed();
  }

  /** Moves a topic to `index` among its current siblings. */
  reorder(id: string, index: number): void {
    const parent = this.node(id).parent();
    const parentId = parent ? (parent.data.get('id') as string) : null;
    this.moveTopic(id, parentId, index);
  }

  /** Deletes a topic and its subtree. Concurrent edits inside the subtree are kept in history but not shown. */
  deleteTopic(id: string): void {
    const node = this.node(id);
    if (node.id === this.centralNode())
      throw new ModelError('invalid-operation', 'the central topic cannot be deleted');
    this.tree.delete(node.id);
    this.forgetIndex();
    this.changed();
  }

  // ---- topic fields --------------------------------------------------------------------------------------

  /** Sets the given fields (a key present with `undefined` clears it); other fields are left as they are. */
  setFields(id: string, fields: TopicFields): void {
    checkFields(fields);
    writeFields(this.dataOf(id), fields);
    this.changed();
  }

  setText(id: string, text: string): void {
    this.setFields(id, { text });
  }

  /** Splices the topic text, as an editor does keystroke by keystroke (UTF-16 indices). */
  editText(id: string, index: number, deleteCount: number, insert: string): void {
    const text = textOf(this.dataOf(id), 'text');
    if (
      !Number.isInteger(index) ||
      !Number.isInteger(deleteCount) ||
      index < 0 ||
      deleteCount < 0 ||
      index + deleteCount > text.length
    ) {
      throw new ModelError(
        'invalid-operation',
        `cannot splice ${index}+${deleteCount} in a text of ${text.length}`,
      );
    }
    if (text.length - deleteCount + insert.length > MAX_TEXT_LENGTH)
      throw new ModelError('limit-exceeded', `topic text is at most ${MAX_TEXT_LENGTH} long`);
    text.splice(index, deleteCount, insert);
    this.changed();
  }

  /** Sets rich runs (their text becomes the topic text); `undefined` turns the topic back to plain text. */
  setRichText(id: string, runs: TextRun[] | undefined): void {
    this.setFields(id, { richText: runs });
  }

  setNotes(id: string, notesHtml: string | undefined): void {
    this.setFields(id, { notesHtml });
  }

  setLinks(id: string, links: TopicFields['links']): void {
    this.setFields(id, { links });
  }

  setIcons(id: string, icons: string[] | undefined): void {
    this.setFields(id, { icons });
  }

  addIcon(id: string, icon: string): void {
    this.addToSet(id, 'icons', icon);
  }

  removeIcon(id: string, icon: string): void {
    this.removeFromSet(id, 'icons', icon);
  }

  setTags(id: string, tags: string[] | undefined): void {
    this.setFields(id, { tags });
  }

  addTag(id: string, tag: string): void {
    this.addToSet(id, 'tags', tag);
  }

  removeTag(id: string, tag: string): void {
    this.removeFromSet(id, 'tags', tag);
  }

  setTask(id: string, task: Task | undefined): void {
    this.setFields(id, { task });
  }

  /** Changes only the task fields in `patch` (`undefined` removes one), so concurrent edits of others merge. */
  updateTask(id: string, patch: Partial<Task>): void {
    this.patchMap(id, 'task', patch);
  }

  setImage(id: string, image: TopicFields['image']): void {
    this.setFields(id, { image });
  }

  setAttachments(id: string, attachments: TopicFields['attachments']): void {
    this.setFields(id, { attachments });
  }

  setStyle(id: string, style: TopicStyle | undefined): void {
    this.setFields(id, { style });
  }

  updateStyle(id: string, patch: Partial<TopicStyle>): void {
    this.patchMap(id, 'style', patch);
  }

  setCollapsed(id: string, collapsed: boolean): void {
    this.setFields(id, { collapsed });
  }

  setPosition(id: string, position: { x: number; y: number } | undefined): void {
    this.setFields(id, { position });
  }

  // ---- boundaries and summaries --------------------------------------------------------------------------

  addBoundary(topicId: string, boundary: NewBoundary): string {
    const id = this.createId();
    this.checkRange(topicId, boundary.range);
    const list = listOf(this.dataOf(topicId), 'boundaries');
    const value = { id, ...boundary };
    checkValue(FIELD_SCHEMAS.boundaries, [value], 'boundary');
    list.push(JSON.parse(JSON.stringify(value)) as Boundary);
    this.changed();
    return id;
  }

  updateBoundary(topicId: string, boundaryId: string, patch: Partial<NewBoundary>): void {
    const list = listOf(this.dataOf(topicId), 'boundaries');
    const index = (list.toJSON() as Boundary[]).findIndex((boundary) => boundary.id === boundaryId);
    const current = list.get(index) as Boundary | undefined;
    if (index < 0 || !current)
      throw new ModelError('boundary-not-found', `no boundary ${boundaryId} on ${topicId}`);
    const next = { ...current, ...patch, id: boundaryId };
    if (patch.range) this.checkRange(topicId, patch.range);
    checkValue(FIELD_SCHEMAS.boundaries, [next], 'boundary');
    list.set(index, JSON.parse(JSON.stringify(next)) as Boundary);
    this.changed();
  }

  removeBoundary(topicId: string, boundaryId: string): void {
    const list = listOf(this.dataOf(topicId), 'boundaries');
    const index = (list.toJSON() as Boundary[]).findIndex((boundary) => boundary.id === boundaryId);
    if (index < 0) throw new ModelError('boundary-not-found', `no boundary ${boundaryId} on ${topicId}`);
    list.delete(index, 1);
    this.changed();
  }

  /** Adds a summary of children `range` of `topicId`; its topic is edited like any other (delete it to remove). */
  addSummary(
    topicId: string,
    range: ChildRange,
    fields: TopicFields = {},
  ): { summaryId: string; topicId: string } {
    this.checkRange(topicId, range);
    const summaryId = this.createId();
    return this.batch(() => {
      const summaryTopicId = this.addTopic(topicId, undefined, fields);
      this.node(summaryTopicId).data.set('summary', { id: summaryId, from: range.from, to: range.to });
      this.changed();
      return { summaryId, topicId: summaryTopicId };
    });
  }

  setSummaryRange(summaryTopicId: string, range: ChildRange): void {
    const node = this.node(summaryTopicId);
    const flag = node.data.get('summary') as { id: string } | undefined;
    const parent = node.parent();
    if (!flag || !parent)
      throw new ModelError('invalid-operation', `${summaryTopicId} is not a summary's topic`);
    this.checkRange(parent.data.get('id') as string, range);
    node.data.set('summary', { id: flag.id, from: range.from, to: range.to });
    this.changed();
  }

  // ---- relationships and map-level fields ----------------------------------------------------------------

  addRelationship(relationship: NewRelationship): string {
    const id = this.createId();
    this.checkRelationship({ id, ...relationship });
    const map = this.doc.getMap(ROOT_RELATIONSHIPS);
    if (map.size >= MAX_RELATIONSHIPS)
      throw new ModelError('limit-exceeded', `a map holds at most ${MAX_RELATIONSHIPS} relationships`);
    writeRelationship(map.setContainer(id, new LoroMap()), relationship);
    this.changed();
    return id;
  }

  updateRelationship(id: string, patch: Partial<NewRelationship>): void {
    const fields = this.relationship(id);
    this.checkRelationship({ ...(fields.toJSON() as NewRelationship), ...patch, id });
    writeRelationship(fields, patch);
    this.changed();
  }

  removeRelationship(id: string): void {
    this.relationship(id);
    this.doc.getMap(ROOT_RELATIONSHIPS).delete(id);
    this.changed();
  }

  setTitle(title: string): void {
    if (typeof title !== 'string' || title.length > MAX_TITLE_LENGTH)
      throw new ModelError('invalid-field', `a title is a string of at most ${MAX_TITLE_LENGTH}`);
    this.doc.getText(ROOT_TITLE).update(title);
    this.changed();
  }

  /** Sets (or with `undefined` removes) one map-level metadata entry. */
  setMeta(key: string, value: string | undefined): void {
    const meta = this.doc.getMap(ROOT_META);
    if (
      key.length > MAX_SHORT_STRING_LENGTH ||
      (value !== undefined && (typeof value !== 'string' || value.length > MAX_SHORT_STRING_LENGTH))
    ) {
      throw new ModelError('invalid-field', 'meta keys and values are short strings');
    }
    if (value === undefined) meta.delete(key);
    else meta.set(key, value);
    this.changed();
  }

  // ---- helpers -------------------------------------------------------------------------------------------

  private addToSet(id: string, key: 'icons' | 'tags', value: string): void {
    const list = listOf(this.dataOf(id), key);
    if ((list.toJSON() as unknown[]).includes(value)) return;
    checkFields({ [key]: [...(list.toJSON() as string[]), value] });
    list.push(value);
    this.changed();
  }

  private removeFromSet(id: string, key: 'icons' | 'tags', value: string): void {
    const list = listOf(this.dataOf(id), key);
    const items = list.toJSON() as unknown[];
    for (let i = items.length - 1; i >= 0; i--) if (items[i] === value) list.delete(i, 1);
    this.changed();
  }

  private patchMap(id: string, key: 'task' | 'style', patch: object): void {
    const map = mapOf(this.dataOf(id), key);
    const next: Record<string, unknown> = { ...(map.toJSON() as Record<string, unknown>) };
    for (const [field, value] of Object.entries(patch)) {
      if (value === undefined) delete next[field];
      else next[field] = value;
    }
    checkFields({ [key]: next });
    for (const [field, value] of Object.entries(patch)) {
      if (value === undefined) map.delete(field);
      else map.set(field, JSON.parse(JSON.stringify(value)) as never);
    }
    this.changed();
  }

  private checkRange(topicId: string, range: ChildRange): void {
    const count = this.childCount(this.node(topicId));
    const valid =
      Number.isInteger(range.from) &&
      Number.isInteger(range.to) &&
      range.from >= 0 &&
      range.from <= range.to &&
      range.to < count;
    if (!valid)
      throw new ModelError(
        'invalid-field',
        `range ${range.from}..${range.to} is not within ${count} children`,
      );
  }

  private childCount(node: LoroTreeNode): number {
    return (node.children() ?? []).filter((child) => !this.isSummaryNode(child)).length;
  }

  private relationship(id: string): LoroMap {
    const fields: unknown = this.doc.getMap(ROOT_RELATIONSHIPS).get(id);
    if (!(fields instanceof LoroMap)) throw new ModelError('relationship-not-found', `no relationship ${id}`);
    return fields as LoroMap;
  }

  private checkRelationship(relationship: Relationship): void {
    const problem = schemaProblem(RelationshipSchema, relationship, 'relationship');
    if (problem) throw new ModelError('invalid-field', problem, [problem]);
    for (const end of [relationship.fromId, relationship.toId]) {
      if (!this.hasTopic(end)) throw new ModelError('topic-not-found', `no topic ${end}`);
    }
  }
}

function checkFields(fields: object): void {
  const problems = fieldsProblems(fields, 'fields');
  if (problems.length > 0) throw new ModelError('invalid-field', problems[0] ?? 'invalid field', problems);
}

function checkValue(schema: TSchema, value: unknown, where: string): void {
  const problem = schemaProblem(schema, value, where);
  if (problem) throw new ModelError('invalid-field', problem, [problem]);
}

function heightOf(node: LoroTreeNode): number {
  let height = 0;
  const stack: { node: LoroTreeNode; level: number }[] = [{ node, level: 1 }];
  while (stack.length > 0) {
    const { node: at, level } = stack.pop()!;
    height = Math.max(height, level);
    for (const child of at.children() ?? []) stack.push({ node: child, level: level + 1 });
  }
  return height;
}
