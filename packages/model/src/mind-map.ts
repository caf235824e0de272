/**
 * `MindMap`: one replica of a map, and the only way the rest of Canopy edits one. Loro stays behind this API.
 *
 * Operations throw `ModelError` (code `topic-not-found`, `invalid-operation`, `invalid-field`, `limit-exceeded`)
 * for calls that cannot apply; they never leave a half-applied operation. Each operation is one commit (one update
 * to send, one undo step) unless it runs inside `batch`.
 */
import { LoroMap, type LoroDoc, type LoroTreeNode } from 'loro-crdt';
import {
  DOCUMENT_SCHEMA_VERSION,
  RelationshipSchema,
  type Boundary,
  type MapDocument,
  type Relationship,
} from './document.ts';
import { checkSeed, seedDocument, writeRelationship } from './document-seed.ts';
import { ModelError, fail, ok, type ModelResult } from './errors.ts';
import { acceptLoadedDoc } from './doc-io.ts';
import { FIELD_SCHEMAS, assertValue, schemaProblem } from './field-schemas.ts';
import { randomId } from './ids.ts';
import {
  MAX_RELATIONSHIPS,
  MAX_SHORT_STRING_LENGTH,
  MAX_SNAPSHOT_BYTES,
  MAX_TITLE_LENGTH,
} from './limits.ts';
import { ROOT_META, ROOT_RELATIONSHIPS, ROOT_TITLE, listOf, type TopicFields } from './loro-layout.ts';
import { MapCore, type MindMapOptions } from './map-core.ts';
import { TopicEditing } from './topic-editing.ts';

export type ChildRange = { from: number; to: number };
export type NewRelationship = Omit<Relationship, 'id'>;
export type NewBoundary = Omit<Boundary, 'id'>;

export class MindMap extends TopicEditing {
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
    return MindMap.fromSnapshotAndUpdates(bytes, [], options);
  }

  /**
   * A snapshot plus updates that were each validated when they were stored (a durable log): imported as one
   * batch and validated once, so loading a log of n entries is O(n), not O(n²).
   */
  static fromSnapshotAndUpdates(
    bytes: Uint8Array,
    updates: readonly Uint8Array[],
    options: MindMapOptions = {},
  ): ModelResult<MindMap> {
    if (!(bytes instanceof Uint8Array)) return fail('malformed-update', 'a snapshot must be a Uint8Array');
    if (bytes.byteLength > MAX_SNAPSHOT_BYTES)
      return fail('limit-exceeded', `snapshot exceeds ${MAX_SNAPSHOT_BYTES} bytes`);
    let doc: LoroDoc;
    try {
      doc = MapCore.newDoc(options.peerId);
      if (updates.length === 0) {
        if (doc.import(bytes).pending != null)
          return fail('malformed-update', 'the snapshot depends on updates it lacks');
      } else {
        doc.importBatch([bytes, ...updates]);
      }
    } catch (error) {
      if (error instanceof ModelError) return { ok: false, error };
      return fail('malformed-update', `not a Loro snapshot: ${String(error).slice(0, 200)}`);
    }
    const migrated = acceptLoadedDoc(doc);
    if (!migrated.ok) return migrated;
    const map = new MindMap(doc, options);
    if (migrated.value.from !== migrated.value.to) map.migratedFrom = migrated.value.from;
    return ok(map);
  }

  /**
   * Brings this map back to the state of `versionSnapshot` (an earlier snapshot of the same map) as a new change
   * on top of the current one (Loro's revert: the history stays, so live replicas merge it like any edit).
   * Returns the update to store and broadcast; the map itself already has it.
   */
  revertToSnapshot(versionSnapshot: Uint8Array): ModelResult<Uint8Array> {
    let update: Uint8Array;
    try {
      const target = MapCore.newDoc(undefined);
      target.import(versionSnapshot);
      const current = MapCore.newDoc(undefined);
      current.import(this.exportSnapshot());
      const from = current.oplogVersion();
      current.revertTo(target.oplogFrontiers());
      current.commit({ origin: 'sys:restore' });
      update = current.export({ mode: 'update', from });
    } catch (error) {
      return fail('malformed-update', `cannot revert to that snapshot: ${String(error).slice(0, 200)}`);
    }
    const admitted = this.importUpdates(update);
    return admitted.ok ? ok(update) : admitted;
  }

  // ---- boundaries and summaries --------------------------------------------------------------------------

  addBoundary(topicId: string, boundary: NewBoundary): string {
    const id = this.createId();
    this.checkRange(this.node(topicId), boundary.range);
    const list = listOf(this.dataOf(topicId), 'boundaries');
    const value = { id, ...boundary };
    assertValue(FIELD_SCHEMAS.boundaries, [value], 'boundary');
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
    if (patch.range) this.checkRange(this.node(topicId), patch.range);
    assertValue(FIELD_SCHEMAS.boundaries, [next], 'boundary');
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
    this.checkRange(this.node(topicId), range);
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
    this.checkRange(parent, range);
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

  private checkRange(holder: LoroTreeNode, range: ChildRange): void {
    const count = this.childCount(holder);
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
