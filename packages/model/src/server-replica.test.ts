import { LoroDoc, type LoroText } from 'loro-crdt';
import { describe, expect, it } from 'vitest';
import { MindMap } from './mind-map.ts';
import { ServerReplica } from './server-replica.ts';
import { replicasOf } from './test-replicas.ts';

/** A peer that speaks Loro but not the layout: it edits a raw copy of the map. */
function hostileUpdate(map: MindMap, edit: (doc: LoroDoc) => void): Uint8Array {
  const doc = new LoroDoc();
  doc.import(map.exportSnapshot());
  const from = doc.oplogVersion();
  edit(doc);
  doc.commit();
  return doc.export({ mode: 'update', from });
}

const summary = (r: ReturnType<ServerReplica['importUpdateBatch']>[number]) =>
  r.ok ? r.value : r.error.code;

/** A schema-breaking update: a field topics do not have, set on the central topic. */
const evilField = (attacker: MindMap) =>
  hostileUpdate(attacker, (doc) => doc.getTree('topics').roots()[0]!.data.set('evil', 1));

/** A refused update leaves what waits waiting; `missing` then releases it all, and the server matches `expected`. */
function refusalKeepsWaiting(
  server: ServerReplica,
  hostile: Uint8Array,
  missing: Uint8Array,
  expected: MindMap,
) {
  expect(server.importUpdateBatch([hostile]).map(summary)).toEqual(['schema-violation']);
  expect(server.hasPendingUpdates()).toBe(true);
  expect(server.importUpdateBatch([missing]).map(summary)).toEqual([{ pending: false, added: true }]);
  expect(server.hasPendingUpdates()).toBe(false);
  expect(server.toMindMap().toJSON()).toEqual(expected.toJSON());
}

describe('ServerReplica', () => {
  it('admits update by update: a bad one is refused alone, a duplicate adds nothing', () => {
    const [origin, editor, attacker] = replicasOf(MindMap.create('t'), 3) as [MindMap, MindMap, MindMap];
    const server = ServerReplica.fromMap(origin);
    const updates: Uint8Array[] = [];
    editor.onLocalUpdate((update) => updates.push(update));
    const topic = editor.addTopic(editor.centralTopicId(), undefined, { text: 'one' });
    editor.setText(topic, 'two');
    const hostile = evilField(attacker);
    const results = server.importUpdateBatch([updates[0]!, hostile, updates[0]!, updates[1]!]);
    expect(results.map(summary)).toEqual([
      { pending: false, added: true },
      'schema-violation',
      { pending: false, added: false },
      { pending: false, added: true },
    ]);
    expect(server.toMindMap().toJSON()).toEqual(editor.toJSON());
    expect(server.importUpdateBatch([new Uint8Array([1, 2, 3])]).map(summary)).toEqual(['malformed-update']);
    expect(server.toMindMap().toJSON()).toEqual(editor.toJSON());
  });

  it('opens a stored snapshot plus log, validated once, and refuses a broken one', () => {
    const origin = MindMap.create('t');
    const snapshot = origin.exportSnapshot();
    const updates: Uint8Array[] = [];
    origin.onLocalUpdate((update) => updates.push(update));
    origin.addTopic(origin.centralTopicId(), undefined, { text: 'logged' });
    const opened = ServerReplica.open(snapshot, updates);
    if (!opened.ok) throw opened.error;
    expect(opened.value.toMindMap().toJSON()).toEqual(origin.toJSON());
    expect(opened.value.title()).toBe(origin.toJSON().title);
    expect(ServerReplica.open(new Uint8Array([9, 9, 9]), [])).toMatchObject({
      ok: false,
      error: { code: 'malformed-update' },
    });
    const broken = hostileUpdate(origin, (doc) => doc.getTree('topics').roots()[0]!.data.set('evil', 1));
    expect(ServerReplica.open(snapshot, [...updates, broken])).toMatchObject({
      ok: false,
      error: { code: 'schema-violation' },
    });
  });

  it('rechecks the central topic when the tree changes, whoever the update touched', () => {
    const origin = MindMap.fromJSON({
      schemaVersion: 1,
      title: 't',
      root: { id: 'c', text: 'c', children: [{ id: 'k', text: 'k', children: [] }] },
      floating: [],
      relationships: [],
    });
    const [attacker] = replicasOf(origin, 1) as [MindMap];
    const server = ServerReplica.fromMap(origin);
    const underChild = hostileUpdate(attacker, (doc) => {
      const [central] = doc.getTree('topics').roots();
      const child = central!.children()![0]!;
      child.move(undefined);
      central!.move(child);
    });
    const deleted = hostileUpdate(attacker, (doc) => {
      const tree = doc.getTree('topics');
      tree.delete(tree.roots()[0]!.id);
    });
    const results = server.importUpdateBatch([underChild, deleted]);
    expect(results.map((r) => (r.ok ? 'ok' : r.error.problems.join(' ')))).toEqual([
      expect.stringContaining('parent') as unknown,
      expect.stringContaining('centralId') as unknown,
    ]);
    expect(server.toMindMap().toJSON()).toEqual(origin.toJSON());
  });

  it('keeps an update that waits for its dependencies waiting across a refusal', () => {
    const [origin, editor, attacker] = replicasOf(MindMap.create('t'), 3) as [MindMap, MindMap, MindMap];
    const server = ServerReplica.fromMap(origin);
    const updates: Uint8Array[] = [];
    editor.onLocalUpdate((update) => updates.push(update));
    const topic = editor.addTopic(editor.centralTopicId(), undefined, { text: 'one' });
    editor.setText(topic, 'two');
    const tooLong = hostileUpdate(attacker, (doc) =>
      (doc.getTree('topics').roots()[0]!.data.get('text') as LoroText).insert(0, 'x'.repeat(10_001)),
    );
    expect(server.importUpdateBatch([updates[1]!, tooLong]).map(summary)).toEqual([
      { pending: true, added: true },
      'schema-violation',
    ]);
    expect(server.importUpdateBatch([updates[0]!]).map(summary)).toEqual([{ pending: false, added: true }]);
    expect(server.toMindMap().toJSON()).toEqual(editor.toJSON());
  });

  it('checks a text whose content alone changed: over-long notes and bad style marks are refused', () => {
    const origin = MindMap.create('t');
    const plain = origin.addTopic(origin.centralTopicId(), undefined, {
      text: 'plain',
      notesHtml: '<p>n</p>',
    });
    const rich = origin.addTopic(origin.centralTopicId(), undefined, { text: 'rich' });
    origin.setRichText(rich, [{ text: 'ri', bold: true }, { text: 'ch' }]);
    const [attacker] = replicasOf(origin, 1) as [MindMap];
    const server = ServerReplica.fromMap(origin);
    const textOf = (doc: LoroDoc, index: number, key: string) =>
      doc.getTree('topics').roots()[0]!.children()![index]!.data.get(key) as LoroText;
    const longNotes = hostileUpdate(attacker, (doc) =>
      textOf(doc, 0, 'notesHtml').insert(0, 'x'.repeat(200_001)),
    );
    const badMark = hostileUpdate(attacker, (doc) => {
      doc.configTextStyle({ evil: { expand: 'after' } });
      textOf(doc, 1, 'text').mark({ start: 0, end: 2 }, 'evil', true);
    });
    const ownId = hostileUpdate(attacker, (doc) => {
      const text = textOf(doc, 0, 'text');
      text.delete(0, text.length);
      text.insert(0, text.id); // reads as a container id: the whole-map check on load would refuse it
    });
    const typed = hostileUpdate(attacker, (doc) => textOf(doc, 1, 'text').insert(4, '!'));
    const results = server.importUpdateBatch([longNotes, badMark, ownId, typed]);
    expect(results.map((r) => (r.ok ? 'ok' : r.error.problems.join(' ')))).toEqual([
      expect.stringContaining(`.notesHtml`) as unknown,
      expect.stringContaining('unknown style mark evil') as unknown,
      expect.stringContaining('.text: must be a text container') as unknown,
      'ok',
    ]);
    const json = server.toMindMap().toJSON();
    expect(json.root.children.map((t) => [t.id, t.text, t.notesHtml])).toEqual([
      [plain, 'plain', '<p>n</p>'],
      [rich, 'rich!', undefined],
    ]);
  });

  it('tracks what waits across peers: released in any order, kept waiting across a refusal', () => {
    const [origin, a, b, attacker] = replicasOf(MindMap.create('t'), 4) as [
      MindMap,
      MindMap,
      MindMap,
      MindMap,
    ];
    const server = ServerReplica.fromMap(origin);
    const fromA: Uint8Array[] = [];
    const fromB: Uint8Array[] = [];
    a.onLocalUpdate((update) => fromA.push(update));
    b.onLocalUpdate((update) => fromB.push(update));
    const topic = a.addTopic(a.centralTopicId(), undefined, { text: 'a' });
    b.importUpdates(fromA[0]!);
    b.editText(topic, 1, 0, 'b'); // depends on a's topic
    a.importUpdates(fromB[0]!);
    a.editText(topic, 2, 0, 'c'); // depends on b's edit
    const hostile = evilField(attacker);
    expect(server.importUpdateBatch([fromA[1]!, fromB[0]!, hostile]).map(summary)).toEqual([
      { pending: true, added: true },
      { pending: true, added: true },
      'schema-violation',
    ]);
    expect(server.hasPendingUpdates()).toBe(true);
    expect(server.importUpdateBatch([fromA[0]!]).map(summary)).toEqual([{ pending: false, added: true }]);
    expect(server.hasPendingUpdates()).toBe(false);
    expect(server.toMindMap().toJSON()).toEqual(a.toJSON());
  });

  it('keeps a long run of waiting updates (past the pruning threshold) waiting across a refusal', () => {
    const [origin, a, attacker] = replicasOf(MindMap.create('t'), 3) as [MindMap, MindMap, MindMap];
    const server = ServerReplica.fromMap(origin);
    const updates: Uint8Array[] = [];
    a.onLocalUpdate((update) => updates.push(update));
    const topic = a.addTopic(a.centralTopicId(), undefined, { text: '' });
    for (let i = 0; i < 150; i++) a.editText(topic, i, 0, 'x');
    const [first, ...rest] = updates as [Uint8Array, ...Uint8Array[]];
    const late = rest.slice(100);
    // Everything but the first edit arrives first, out of order: all of it waits until the first arrives.
    expect(server.importUpdateBatch(rest.slice(0, 100).reverse()).every((r) => r.ok && r.value.pending)).toBe(
      true,
    );
    expect(server.importUpdateBatch(late).every((r) => r.ok && r.value.pending)).toBe(true);
    refusalKeepsWaiting(server, evilField(attacker), first, a);
  });

  it('keeps a waiting update that is sent again and again waiting across a refusal', () => {
    const [origin, a, attacker] = replicasOf(MindMap.create('t'), 3) as [MindMap, MindMap, MindMap];
    const server = ServerReplica.fromMap(origin);
    const updates: Uint8Array[] = [];
    a.onLocalUpdate((update) => updates.push(update));
    const topic = a.addTopic(a.centralTopicId(), undefined, { text: '' });
    a.editText(topic, 0, 0, 'x');
    const resent = Array.from({ length: 2100 }, () => updates[1]!);
    expect(server.importUpdateBatch(resent).every((r) => r.ok && r.value.pending)).toBe(true);
    refusalKeepsWaiting(server, evilField(attacker), updates[0]!, a);
  });

  it('serves what a replica lacks, and agrees with MindMap on what it admits', () => {
    const [origin, a, b] = replicasOf(MindMap.create('t'), 3) as [MindMap, MindMap, MindMap];
    const server = ServerReplica.fromMap(origin);
    const mirror = replicasOf(origin, 1)[0]!;
    const updates: Uint8Array[] = [];
    a.onLocalUpdate((update) => updates.push(update));
    const x = a.addTopic(a.centralTopicId(), undefined, { text: 'x' });
    a.addTopic(x, undefined, { text: 'y' });
    updates.push(hostileUpdate(a, (doc) => doc.getMap('document').set('schemaVersion', 99)));
    for (const update of updates) {
      const [fromServer] = server.importUpdateBatch([update]);
      expect(summary(fromServer!)).toEqual(summary(mirror.importUpdates(update)));
    }
    const lacking = server.exportUpdatesSince(b.versionVector());
    if (!lacking.ok) throw lacking.error;
    expect(b.importUpdates(lacking.value).ok).toBe(true);
    expect(b.toJSON()).toEqual(a.toJSON());
    expect(server.versionVector()).toEqual(mirror.versionVector());
    expect(server.exportUpdatesSince(new Uint8Array([255, 255]))).toMatchObject({
      ok: false,
      error: { code: 'invalid-version-vector' },
    });
  });
});
