import { LoroDoc } from 'loro-crdt';
import { describe, expect, it } from 'vitest';
import { DOCUMENT_SCHEMA_VERSION } from './document.ts';
import { checkInvariants } from './invariants.ts';
import { migrateToCurrent, storedSchemaVersion } from './migrations.ts';
import { MindMap } from './mind-map.ts';
import { replicasOf, syncAll } from './test-replicas.ts';

/** A map as the pre-release v0 layout stored it (see migrations.ts). */
function v0Snapshot(): Uint8Array {
  const doc = new LoroDoc();
  doc.setPeerId(7);
  doc.getMap('document').set('title', 'Old map');
  const tree = doc.getTree('topics');
  const central = tree.createNode();
  central.data.set('id', 'c');
  central.data.set('text', 'Central');
  central.data.set('notes', '<p>old note</p>');
  const kid = central.createNode();
  kid.data.set('id', 'k');
  kid.data.set('text', 'Kid');
  kid.data.set('tags', ['t1', 't2']);
  const floating = tree.createNode();
  floating.data.set('id', 'f');
  floating.data.set('text', 'Float');
  doc.getMap('relationships').set('r', { fromId: 'k', toId: 'f', label: 'rel' });
  doc.commit();
  return doc.export({ mode: 'snapshot' });
}

describe('schema migrations', () => {
  it('reads a v0 document as the current schema', () => {
    const loaded = MindMap.fromSnapshot(v0Snapshot(), { peerId: 1 });
    if (!loaded.ok) throw loaded.error;
    const map = loaded.value;
    expect(map.migratedFrom).toBe(0);
    expect(map.toJSON()).toEqual({
      schemaVersion: DOCUMENT_SCHEMA_VERSION,
      title: 'Old map',
      root: {
        id: 'c',
        text: 'Central',
        notesHtml: '<p>old note</p>',
        children: [{ id: 'k', text: 'Kid', tags: ['t1', 't2'], children: [] }],
      },
      floating: [{ id: 'f', text: 'Float', children: [] }],
      relationships: [{ id: 'r', fromId: 'k', toId: 'f', label: 'rel' }],
    });
    expect(checkInvariants(map.toJSON())).toEqual([]);
    expect(map.canUndo()).toBe(false);
  });

  it('stores the migration, so the migrated map loads without migrating and co-edits', () => {
    const loaded = MindMap.fromSnapshot(v0Snapshot());
    if (!loaded.ok) throw loaded.error;
    const reloaded = MindMap.fromSnapshot(loaded.value.exportSnapshot());
    if (!reloaded.ok) throw reloaded.error;
    expect(reloaded.value.migratedFrom).toBeUndefined();
    const [a, b] = replicasOf(reloaded.value, 2) as [MindMap, MindMap];
    a.setNotes('k', 'from a');
    b.setNotes('k', 'from b');
    b.addTag('k', 't3');
    syncAll([a, b]);
    expect(a.toJSON()).toEqual(b.toJSON());
    expect(a.toJSON().root.children[0]).toMatchObject({ tags: ['t1', 't2', 't3'] });
    expect(a.toJSON().root.children[0]!.notesHtml).toMatch(/from a|from b/);
    expect(a.toJSON().root.children[0]!.notesHtml?.length).toBe('from afrom b'.length);
  });

  it('refuses a v0-shaped update once the map is migrated', () => {
    const loaded = MindMap.fromSnapshot(v0Snapshot());
    if (!loaded.ok) throw loaded.error;
    const old = new LoroDoc();
    old.import(v0Snapshot());
    const added = old.getTree('topics').roots()[0]!.createNode();
    added.data.set('id', 'new');
    added.data.set('text', 'added by an old client');
    old.commit();
    expect(loaded.value.importUpdates(old.export({ mode: 'update' }))).toMatchObject({
      ok: false,
      error: { code: 'schema-violation' },
    });
  });

  it('refuses documents from a newer schema and gaps in the migration chain', () => {
    const future = new LoroDoc();
    future.getMap('document').set('schemaVersion', DOCUMENT_SCHEMA_VERSION + 1);
    future.commit();
    expect(MindMap.fromSnapshot(future.export({ mode: 'snapshot' }))).toMatchObject({
      ok: false,
      error: { code: 'unsupported-schema-version' },
    });
    const old = new LoroDoc();
    old.import(v0Snapshot());
    expect(storedSchemaVersion(old)).toBe(0);
    expect(migrateToCurrent(old, [])).toMatchObject({
      ok: false,
      error: { code: 'unsupported-schema-version' },
    });
    expect(migrateToCurrent(old)).toEqual({ ok: true, value: { from: 0, to: DOCUMENT_SCHEMA_VERSION } });
    expect(storedSchemaVersion(old)).toBe(DOCUMENT_SCHEMA_VERSION);
  });
});
