/**
 * Versioned migrations of the Loro layout. A stored map records its layout version in `document.schemaVersion`;
 * on load, each step from that version up to `DOCUMENT_SCHEMA_VERSION` rewrites the document in place, as
 * ordinary operations of the loading peer, which are then saved and sent like any edit.
 *
 * Run migrations once, where the map is loaded from storage (the server, before it opens a co-editing room):
 * two replicas migrating the same old document concurrently would each create the new containers, and the
 * edits one of them made into its own containers before merging could be hidden.
 */
import { LoroMap, LoroMovableList, LoroText, type LoroDoc } from 'loro-crdt';
import { DOCUMENT_SCHEMA_VERSION } from './document.ts';
import { fail, ok, type ModelResult } from './errors.ts';
import {
  KEY_CENTRAL_ID,
  KEY_SCHEMA_VERSION,
  LIST_KEYS,
  MAP_KEYS,
  ROOT_DOCUMENT,
  ROOT_RELATIONSHIPS,
  ROOT_TITLE,
  topicsTree,
} from './loro-layout.ts';
import { isRecord } from './projection.ts';

export interface MigrationStep {
  /** The version this step reads; it writes `from + 1`. */
  from: number;
  description: string;
  apply(doc: LoroDoc): void;
}

/**
 * v0 (the pre-release layout, never shipped, kept as the worked example): `document.title` was a plain string
 * and there was no `schemaVersion`; the central topic was the first root of the tree; a topic's node map held
 * plain `id`, `text`, `notes` (not `notesHtml`) and `tags` values and no containers; relationships were plain
 * objects in the `relationships` map.
 */
const v0ToV1: MigrationStep = {
  from: 0,
  description: 'text containers for title, topic text and notes; field containers per topic; central id',
  apply(doc) {
    const document = doc.getMap(ROOT_DOCUMENT);
    const title: unknown = document.get('title');
    if (typeof title === 'string') doc.getText(ROOT_TITLE).update(title);
    if (title !== undefined) document.delete('title');

    const tree = topicsTree(doc);
    const first = tree.roots()[0];
    if (first) document.set(KEY_CENTRAL_ID, first.id);
    for (const node of tree.getNodes({ withDeleted: false })) {
      const data = node.data;
      const text: unknown = data.get('text');
      const notes: unknown = data.get('notes');
      const tags: unknown = data.get('tags');
      data.setContainer('text', new LoroText()).insert(0, typeof text === 'string' ? text : '');
      data.setContainer('notesHtml', new LoroText()).insert(0, typeof notes === 'string' ? notes : '');
      if (notes !== undefined) data.delete('notes');
      for (const key of LIST_KEYS) {
        const list = data.setContainer(key, new LoroMovableList());
        if (key === 'tags' && Array.isArray(tags)) {
          tags
            .filter((tag): tag is string => typeof tag === 'string')
            .forEach((tag, i) => list.insert(i, tag));
        }
      }
      for (const key of MAP_KEYS) data.setContainer(key, new LoroMap());
      if (typeof data.get('id') !== 'string') data.set('id', `v0-${node.id}`);
    }

    const relationships = doc.getMap(ROOT_RELATIONSHIPS);
    for (const [id, value] of Object.entries(relationships.toJSON() as Record<string, unknown>)) {
      if (!isRecord(value)) {
        relationships.delete(id);
        continue;
      }
      const fields = relationships.setContainer(id, new LoroMap());
      for (const key of ['fromId', 'toId', 'label', 'color', 'dashed']) {
        if (value[key] !== undefined) fields.set(key, value[key] as string | boolean);
      }
    }
  },
};

export const MIGRATIONS: readonly MigrationStep[] = [v0ToV1];

/** The layout version a document was written with: 0 for a v0 document, which has no version. */
export function storedSchemaVersion(doc: LoroDoc): number {
  const version: unknown = doc.getMap(ROOT_DOCUMENT).get(KEY_SCHEMA_VERSION);
  return typeof version === 'number' ? version : 0;
}

/** Brings `doc` to the current layout, one committed step at a time. Returns the version it started from. */
export function migrateToCurrent(
  doc: LoroDoc,
  steps: readonly MigrationStep[] = MIGRATIONS,
): ModelResult<{ from: number; to: number }> {
  const from = storedSchemaVersion(doc);
  if (!Number.isInteger(from) || from > DOCUMENT_SCHEMA_VERSION) {
    return fail(
      'unsupported-schema-version',
      `document schema version ${from} is newer than ${DOCUMENT_SCHEMA_VERSION}`,
    );
  }
  for (let version = from; version < DOCUMENT_SCHEMA_VERSION; version++) {
    const step = steps.find((candidate) => candidate.from === version);
    if (!step) return fail('unsupported-schema-version', `no migration from schema version ${version}`);
    step.apply(doc);
    doc.getMap(ROOT_DOCUMENT).set(KEY_SCHEMA_VERSION, version + 1);
    doc.commit({
      origin: 'sys:migration',
      message: `schema ${version} -> ${version + 1}: ${step.description}`,
    });
  }
  return ok({ from, to: DOCUMENT_SCHEMA_VERSION });
}
