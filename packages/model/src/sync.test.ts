import { LoroDoc, LoroMap, LoroText } from 'loro-crdt';
import { describe, expect, it } from 'vitest';
import { checkInvariants } from './invariants.ts';
import { MindMap } from './mind-map.ts';
import { hostileUpdate, replicasOf, syncAll } from './test-replicas.ts';

function twoReplicas(): { a: MindMap; b: MindMap; root: string } {
  const origin = MindMap.create('shared');
  const [a, b] = replicasOf(origin, 2) as [MindMap, MindMap];
  return { a, b, root: a.centralTopicId() };
}

describe('co-editing', () => {
  it('converges and keeps topic ids stable across replicas', () => {
    const { a, b, root } = twoReplicas();
    const x = a.addTopic(root, undefined, { text: 'from a' });
    const y = b.addTopic(root, undefined, { text: 'from b' });
    syncAll([a, b]);
    expect(a.toJSON()).toEqual(b.toJSON());
    expect(
      a
        .toJSON()
        .root.children.map((t) => t.id)
        .sort(),
    ).toEqual([x, y].sort());
    b.setText(x, 'edited by b');
    syncAll([a, b]);
    expect(a.toJSON().root.children.find((t) => t.id === x)?.text).toBe('edited by b');
  });

  it('resolves A-under-B while B-under-A without a cycle or a lost topic', () => {
    const { a, b, root } = twoReplicas();
    const ta = a.addTopic(root, undefined, { text: 'A' });
    const tb = a.addTopic(root, undefined, { text: 'B' });
    syncAll([a, b]);
    a.moveTopic(ta, tb);
    b.moveTopic(tb, ta);
    syncAll([a, b]);
    const view = a.toJSON();
    expect(view).toEqual(b.toJSON());
    expect(checkInvariants(view)).toEqual([]);
    const top = view.root.children;
    expect(top).toHaveLength(1);
    expect(top[0]!.children.map((t) => t.id)).toEqual([top[0]!.id === ta ? tb : ta]);
  });

  it('lets a delete win over a concurrent edit inside the deleted subtree', () => {
    const { a, b, root } = twoReplicas();
    const parent = a.addTopic(root, undefined, { text: 'parent' });
    const child = a.addTopic(parent, undefined, { text: 'child' });
    syncAll([a, b]);
    a.deleteTopic(parent);
    b.setText(child, 'edited');
    b.addTopic(child, undefined, { text: 'grandchild' });
    const other = b.addTopic(root, undefined, { text: 'survivor' });
    b.addRelationship({ fromId: other, toId: child });
    syncAll([a, b]);
    expect(a.toJSON()).toEqual(b.toJSON());
    expect(a.toJSON().root.children.map((t) => t.text)).toEqual(['survivor']);
    expect(a.toJSON().relationships).toEqual([]);
    expect(checkInvariants(a.toJSON())).toEqual([]);
  });

  it('keeps both notes when two replicas write the first note of a topic at once', () => {
    const { a, b, root } = twoReplicas();
    const t = a.addTopic(root, undefined, { text: 't' });
    syncAll([a, b]);
    a.setNotes(t, '<p>from a</p>');
    b.setNotes(t, '<p>from b</p>');
    syncAll([a, b]);
    const notes = a.toJSON().root.children[0]!.notesHtml ?? '';
    expect(b.toJSON().root.children[0]!.notesHtml).toBe(notes);
    expect(notes).toContain('<p>from a</p>');
    expect(notes).toContain('<p>from b</p>');
  });

  it("merges concurrent edits of different task and style fields, and both replicas' links", () => {
    const { a, b, root } = twoReplicas();
    const t = a.addTopic(root);
    syncAll([a, b]);
    a.updateTask(t, { priority: 1 });
    b.updateTask(t, { progress: 40 });
    a.updateStyle(t, { bold: true });
    b.updateStyle(t, { fillColor: '#ffffff' });
    a.setLinks(t, [{ kind: 'url', url: 'https://a.example' }]);
    b.setLinks(t, [{ kind: 'url', url: 'https://b.example' }]);
    a.addTag(t, 'same');
    b.addTag(t, 'same');
    syncAll([a, b]);
    const topic = a.toJSON().root.children[0]!;
    expect(topic.task).toEqual({ priority: 1, progress: 40 });
    expect(topic.style).toEqual({ bold: true, fillColor: '#ffffff' });
    expect(topic.links).toHaveLength(2);
    expect(topic.tags).toEqual(['same']);
    expect(a.toJSON()).toEqual(b.toJSON());
  });

  it('applies updates delivered out of order and twice', () => {
    const { a, b, root } = twoReplicas();
    const updates: Uint8Array[] = [];
    a.onLocalUpdate((update) => updates.push(update));
    const t = a.addTopic(root, undefined, { text: 'one' });
    a.setText(t, 'two');
    a.addTopic(t, undefined, { text: 'three' });
    expect(updates).toHaveLength(3);
    const last = b.importUpdates(updates[2]!);
    expect(last).toMatchObject({ ok: true, value: { pending: true } });
    expect(b.toJSON().root.children).toEqual([]);
    for (const update of [updates[1]!, updates[0]!, updates[0]!])
      expect(b.importUpdates(update).ok).toBe(true);
    expect(b.toJSON()).toEqual(a.toJSON());
  });

  it('exports only what a replica lacks, from its version vector', () => {
    const { a, b, root } = twoReplicas();
    a.addTopic(root, undefined, { text: 'x' });
    const since = a.exportUpdatesSince(b.versionVector());
    if (!since.ok) throw since.error;
    expect(b.importUpdates(since.value).ok).toBe(true);
    expect(b.toJSON()).toEqual(a.toJSON());
    expect(a.exportUpdatesSince(new Uint8Array([255, 255, 255]))).toMatchObject({
      ok: false,
      error: { code: 'invalid-version-vector' },
    });
  });

  it('tells whether it holds what a replica at a version vector lacks: ahead or concurrent, not behind', () => {
    const { a, b, root } = twoReplicas();
    expect(a.hasUpdatesBeyond(b.versionVector())).toBe(false);
    a.addTopic(root, undefined, { text: 'x' });
    expect(a.hasUpdatesBeyond(b.versionVector())).toBe(true);
    expect(b.hasUpdatesBeyond(a.versionVector())).toBe(false);
    b.addTopic(root, undefined, { text: 'y' });
    expect(a.hasUpdatesBeyond(b.versionVector())).toBe(true);
    expect(b.hasUpdatesBeyond(a.versionVector())).toBe(true);
    expect(a.hasUpdatesBeyond(new Uint8Array([255, 255, 255]))).toBe(false);
  });
});

describe('importUpdates validation', () => {
  it('returns a typed error for garbage and never throws', () => {
    const { a } = twoReplicas();
    const before = a.toJSON();
    for (const garbage of [
      new Uint8Array(),
      new Uint8Array([1, 2, 3]),
      new TextEncoder().encode('{"hello":1}'),
    ]) {
      expect(a.importUpdates(garbage)).toMatchObject({ ok: false, error: { code: 'malformed-update' } });
    }
    expect(a.importUpdates('nope' as unknown as Uint8Array)).toMatchObject({
      ok: false,
      error: { code: 'malformed-update' },
    });
    expect(a.toJSON()).toEqual(before);
  });

  const attacks: [string, (doc: LoroDoc) => void, string][] = [
    [
      'deletes the central topic',
      (doc) => doc.getTree('topics').delete(doc.getTree('topics').roots()[0]!.id),
      'centralId',
    ],
    [
      'sets a field to the wrong type',
      (doc) => doc.getTree('topics').roots()[0]!.data.set('collapsed', 'yes'),
      'collapsed',
    ],
    [
      'replaces a text container by a string',
      (doc) => doc.getTree('topics').roots()[0]!.data.set('text', 'plain'),
      'text: must be a text container',
    ],
    [
      'adds an unknown topic field',
      (doc) => doc.getTree('topics').roots()[0]!.data.set('evil', 1),
      'evil: not a topic field',
    ],
    ['adds a root container', (doc) => doc.getText('junk').insert(0, 'x'), 'root container junk'],
    [
      'adds a topic without its containers',
      (doc) => doc.getTree('topics').createNode().data.set('id', 'bare'),
      'must be a text container',
    ],
    [
      'bumps the schema version',
      (doc) => doc.getMap('document').set('schemaVersion', 99),
      'schemaVersion is 99',
    ],
    [
      'writes an over-long text',
      (doc) => (doc.getTree('topics').roots()[0]!.data.get('text') as LoroText).insert(0, 'x'.repeat(10_001)),
      'length',
    ],
    [
      'nests topics deeper than the limit',
      (doc) => {
        let parent = doc.getTree('topics').roots()[0]!;
        for (let depth = 0; depth < 300; depth++) parent = parent.createNode();
      },
      'deeper than 256',
    ],
    [
      'breaks an existing relationship',
      (doc) => (doc.getMap('relationships').get('r1') as LoroMap).set('fromId', 7),
      'relationships.r1',
    ],
    [
      'adds a relationship that is not a map',
      (doc) => doc.getMap('relationships').set('r', 'x'),
      'relationships.r',
    ],
  ];

  it.each(attacks)('refuses an update that %s, and keeps working', (_name, attack, reason) => {
    const origin = MindMap.fromJSON({
      schemaVersion: 1,
      title: 't',
      root: { id: 'c', text: 'c', children: [{ id: 'k', text: 'k', children: [] }] },
      floating: [],
      relationships: [{ id: 'r1', fromId: 'c', toId: 'k' }],
    });
    const [a, b] = replicasOf(origin, 2) as [MindMap, MindMap];
    const root = a.centralTopicId();
    const before = a.toJSON();
    const result = a.importUpdates(hostileUpdate(a, attack));
    expect(result).toMatchObject({ ok: false, error: { code: 'schema-violation' } });
    expect(result.ok ? [] : result.error.problems.join('\n')).toContain(reason);
    expect(a.toJSON()).toEqual(before);
    b.addTopic(root, undefined, { text: 'later' });
    syncAll([a, b]);
    expect(a.toJSON()).toEqual(b.toJSON());
  });

  it('refuses a snapshot that breaks the layout', () => {
    const doc = new LoroDoc();
    doc.getTree('topics').createNode().data.set('id', 'x');
    doc.getMap('document').set('schemaVersion', 1);
    doc.commit();
    expect(MindMap.fromSnapshot(doc.export({ mode: 'snapshot' }))).toMatchObject({
      ok: false,
      error: { code: 'schema-violation' },
    });
    expect(MindMap.fromSnapshot(new Uint8Array([9, 9, 9]))).toMatchObject({
      ok: false,
      error: { code: 'malformed-update' },
    });
  });
});
