import fc from 'fast-check';
import { LoroDoc, type LoroText } from 'loro-crdt';
import { describe, expect, it, vi } from 'vitest';
import { MindMap } from './mind-map.ts';
import { ServerReplica } from './server-replica.ts';
import { jittered, mostlyTypingArb, playScript, seedMap } from './test-ops.ts';
import { evilField, hostileUpdate, replicasOf } from './test-replicas.ts';

/** Settles `server`, then its state must be the state its log leads to. */
function expectSettledToLog(server: ServerReplica) {
  server.settle();
  const fromLog = new LoroDoc();
  fromLog.import(server.exportSnapshot());
  expect(server.stateValue()).toEqual(fromLog.toJSON());
}

const summary = (r: ReturnType<ServerReplica['importUpdateBatch']>[number]) =>
  r.ok ? r.value : r.error.code;

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
    let ownId = '';
    const readsAsId = hostileUpdate(attacker, (doc) => {
      const text = textOf(doc, 0, 'text');
      ownId = text.id;
      text.delete(0, text.length);
      text.insert(0, text.id); // reads as a container id in the map's shallow and deep values alike
    });
    const typed = hostileUpdate(attacker, (doc) => textOf(doc, 1, 'text').insert(4, '!'));
    const results = server.importUpdateBatch([longNotes, badMark, readsAsId, typed]);
    expect(results.map((r) => (r.ok ? 'ok' : r.error.problems.join(' ')))).toEqual([
      expect.stringContaining(`.notesHtml`) as unknown,
      expect.stringContaining('unknown style mark evil') as unknown,
      'ok',
      'ok',
    ]);
    // The whole-map check (on load) tells that text from a plain value too.
    const json = server.toMindMap().toJSON();
    expect(json.root.children.map((t) => [t.id, t.text, t.notesHtml])).toEqual([
      [plain, ownId, '<p>n</p>'],
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

  describe('typing admitted from its operations (R9)', () => {
    /** A map with one topic, a replica that types into it (every keystroke an update), and the server. */
    function typingSetUp(rich = false) {
      const origin = MindMap.create('t');
      const topic = origin.addTopic(origin.centralTopicId(), undefined, { text: 'a' });
      if (rich) origin.setRichText(topic, [{ text: 'a', bold: true }]);
      const [typist, attacker] = replicasOf(origin, 2) as [MindMap, MindMap];
      const server = ServerReplica.fromMap(origin);
      const updates: Uint8Array[] = [];
      typist.onLocalUpdate((update) => updates.push(update));
      const type = (edit: () => void) => {
        updates.length = 0;
        edit();
        return server.importUpdateBatch(updates).map(summary);
      };
      /** Another replica, with peer id `peer`, holding all the typist holds. */
      const joiner = (peer: bigint) => {
        const [other] = replicasOf(origin, 1) as [MindMap];
        other.setPeerId(peer);
        const history = typist.exportUpdatesSince();
        if (!history.ok) throw history.error;
        other.importUpdates(history.value);
        return other;
      };
      return { origin, topic, typist, attacker, server, type, joiner };
    }
    const added = { pending: false, added: true };

    it('keeps its state behind until settled, and whatever reads it settles first', () => {
      const { topic, typist, server, type } = typingSetUp();
      expect(type(() => typist.editText(topic, 1, 0, 'b'))).toEqual([added]); // the text's first edit: checked
      expect(server.unsettledCount).toBe(0);
      expect(type(() => typist.editText(topic, 2, 0, 'c'))).toEqual([added]);
      expect(type(() => typist.editText(topic, 0, 1, ''))).toEqual([added]);
      expect(server.unsettledCount).toBe(2);
      expect(server.stateValue()).not.toEqual(new LoroDoc().toJSON()); // (the state is there, a step behind)
      server.settle();
      expect(server.unsettledCount).toBe(0);
      expectSettledToLog(server);
      expect(server.toMindMap().toJSON()).toEqual(typist.toJSON());
      expect(type(() => typist.setTitle('title'))).toEqual([added]); // the title is checked from the start
      expect(server.unsettledCount).toBe(1);
      expect(type(() => typist.setTitle('title!'))).toEqual([added]);
      expect(server.title()).toBe('title!');
      expect(ServerReplica.open(server.exportSnapshot(), []).ok).toBe(true);
    });

    it('checks a text on its state when typing may pass its limit, and refuses what does', () => {
      const { topic, typist, server, type } = typingSetUp();
      // 1,000 characters typed and deleted 12 times: the bound passes the 10,000 limit, the text never does.
      for (let i = 0; i < 12; i++) {
        expect(type(() => typist.editText(topic, 1, 0, 'x'.repeat(1_000)))).toEqual([added]);
        expect(type(() => typist.editText(topic, 1, 1_000, ''))).toEqual([added]);
      }
      expect(type(() => typist.editText(topic, 1, 0, 'y'.repeat(9_998)))).toEqual([added]);
      expect(type(() => typist.editText(topic, 0, 0, 'z'))).toEqual([added]); // 10,000
      // The typist's own map refuses to type more: a hostile peer does it on the raw document.
      const over = hostileUpdate(typist, (doc) => {
        const text = doc.getTree('topics').roots()[0]!.children()![0]!.data.get('text') as LoroText;
        text.insert(0, 'w');
      });
      const refused = server.importUpdateBatch([over]);
      expect(refused.map(summary)).toEqual(['schema-violation']);
      expect(server.toMindMap().topic(topic)?.text).toBe(`za${'y'.repeat(9_998)}`);
    });

    it('checks whatever is not typing into a checked text, in the same update as typing or not', () => {
      const { topic, typist, attacker, server, type } = typingSetUp(true);
      expect(type(() => typist.editText(topic, 1, 0, 'b'))).toEqual([added]);
      const textOf = (doc: LoroDoc) =>
        doc.getTree('topics').roots()[0]!.children()![0]!.data.get('text') as LoroText;
      const markOnChecked = hostileUpdate(typist, (doc) => {
        doc.configTextStyle({ evil: { expand: 'after' } });
        textOf(doc).mark({ start: 0, end: 1 }, 'evil', true);
      });
      const typingAndField = hostileUpdate(typist, (doc) => {
        textOf(doc).insert(0, 'q');
        doc.getTree('topics').roots()[0]!.data.set('evil', 1);
      });
      const results = server.importUpdateBatch([markOnChecked, typingAndField, evilField(attacker)]);
      expect(results.map(summary)).toEqual(['schema-violation', 'schema-violation', 'schema-violation']);
      // Typing admitted before a refusal stays.
      expect(type(() => typist.editText(topic, 2, 0, 'c'))).toEqual([added]);
      expect(server.importUpdateBatch([evilField(attacker)]).map(summary)).toEqual(['schema-violation']);
      expect(server.toMindMap().toJSON()).toEqual(typist.toJSON());
    });

    it('checks typing that waited, released all at once, on the state', () => {
      const { topic, typist, server, type, joiner } = typingSetUp();
      expect(type(() => typist.editText(topic, 1, 0, 'b'))).toEqual([added]); // the text is checked
      expect(type(() => typist.editText(topic, 2, 0, 'c'))).toEqual([added]);
      expect(server.unsettledCount).toBe(1);
      const other = joiner(77n);
      const fromTypist: Uint8Array[] = [];
      const fromOther: Uint8Array[] = [];
      typist.onLocalUpdate((update) => fromTypist.push(update));
      other.onLocalUpdate((update) => fromOther.push(update));
      typist.editText(topic, 3, 0, 'x');
      other.importUpdates(fromTypist[0]!);
      other.editText(topic, 4, 0, 'y'); // follows the typist's x
      typist.importUpdates(fromOther[0]!);
      typist.editText(topic, 5, 0, 'z'); // follows the other's y
      other.editText(topic, 0, 0, 'w'); // concurrent with z
      typist.importUpdates(fromOther[1]!);
      expect(server.importUpdateBatch([fromOther[1]!, fromTypist[1]!, fromOther[0]!]).map(summary)).toEqual([
        { pending: true, added: true },
        { pending: true, added: true },
        { pending: true, added: true },
      ]);
      expect(server.unsettledCount).toBe(1);
      // Several changes at once: checked on the state, which is then up to date.
      expect(server.importUpdateBatch([fromTypist[0]!]).map(summary)).toEqual([added]);
      expect(server.unsettledCount).toBe(0);
      expectSettledToLog(server);
      expect(server.toMindMap().toJSON()).toEqual(typist.toJSON());
      expect(server.toMindMap().topic(topic)?.text).toBe('wabcxyz');
    });

    it('keeps what waits waiting, and typing admitted from its operations, across a snapshot', () => {
      const { topic, typist, server, type } = typingSetUp();
      expect(type(() => typist.editText(topic, 1, 0, 'b'))).toEqual([added]); // the text is checked
      const updates: Uint8Array[] = [];
      typist.onLocalUpdate((update) => updates.push(update));
      typist.editText(topic, 2, 0, 'c');
      typist.editText(topic, 3, 0, 'd');
      expect(server.importUpdateBatch([updates[1]!]).map(summary)).toEqual([{ pending: true, added: true }]);
      const snapshot = server.exportSnapshot();
      expect(ServerReplica.open(snapshot, []).ok).toBe(true);
      expect(server.hasPendingUpdates()).toBe(true);
      expect(server.importUpdateBatch([updates[0]!]).map(summary)).toEqual([added]);
      expect(server.hasPendingUpdates()).toBe(false);
      expect(server.unsettledCount).toBe(1); // still admitted as typing: the checked text is still known
      expectSettledToLog(server);
      expect(server.toMindMap().topic(topic)?.text).toBe('abcd');
    });

    it('refuses typing at a position its text does not have, before it is acknowledged', () => {
      const { topic, typist, server, type } = typingSetUp();
      expect(type(() => typist.editText(topic, 1, 0, 'bc'))).toEqual([added]); // 'abc', checked
      expect(type(() => typist.editText(topic, 3, 0, 'd'))).toEqual([added]); // admitted from its operations
      // Loro's own API will not make such operations: a hostile peer edits the JSON form of a real keystroke.
      const forged = (edit: (content: Record<string, unknown>) => void) => {
        const peer = new LoroDoc();
        peer.import(typist.exportSnapshot());
        const from = peer.oplogVersion();
        (peer.getTree('topics').roots()[0]!.children()![0]!.data.get('text') as LoroText).insert(1, 'x');
        peer.commit();
        const json = peer.exportJsonUpdates(from, peer.oplogVersion());
        edit(json.changes[0]!.ops[0]!.content);
        const carrier = new LoroDoc();
        carrier.import(typist.exportSnapshot());
        carrier.detach(); // takes the operation into its log without applying it
        carrier.importJsonUpdates(json);
        return carrier.export({ mode: 'update', from });
      };
      // Each forged right after a keystroke admitted from its operations, so it follows the latest version.
      const pastTheEnd = forged((content) => (content.pos = 5));
      expect(server.importUpdateBatch([pastTheEnd]).map(summary)).toEqual(['malformed-update']);
      expect(type(() => typist.editText(topic, 4, 0, 'e'))).toEqual([added]); // checked again after the refusal
      expect(type(() => typist.editText(topic, 5, 0, 'f'))).toEqual([added]);
      expect(server.unsettledCount).toBe(1);
      const deletePastTheEnd = forged((content) =>
        Object.assign(content, { type: 'delete', pos: 4, len: 3, start_id: '0@0' }),
      );
      expect(server.importUpdateBatch([deletePastTheEnd]).map(summary)).toEqual(['malformed-update']);
      // (A backwards delete past the start Loro refuses itself, as it decodes the update.)
      expect(type(() => typist.editText(topic, 6, 0, 'g'))).toEqual([added]);
      expect(type(() => typist.editText(topic, 7, 0, 'h'))).toEqual([added]);
      expectSettledToLog(server);
      expect(server.toMindMap().topic(topic)?.text).toBe('abcdefgh');
    });

    it('counts positions in code points and the limit in UTF-16 units', () => {
      const { topic, typist, server, type } = typingSetUp();
      expect(type(() => typist.editText(topic, 1, 0, '😀'))).toEqual([added]); // checked: 2 points, 3 units
      expect(type(() => typist.editText(topic, 3, 0, 'é😀'))).toEqual([added]);
      expect(type(() => typist.editText(topic, 1, 2, ''))).toEqual([added]); // the first 😀
      expect(server.unsettledCount).toBe(2);
      expectSettledToLog(server);
      expect(server.toMindMap().topic(topic)?.text).toBe('aé😀');
      // 4 units now: 9,996 more reach the limit, one more passes it.
      expect(type(() => typist.editText(topic, 4, 0, 'x'.repeat(9_996)))).toEqual([added]);
      const over = hostileUpdate(typist, (doc) =>
        (doc.getTree('topics').roots()[0]!.children()![0]!.data.get('text') as LoroText).insert(0, 'y'),
      );
      expect(server.importUpdateBatch([over]).map(summary)).toEqual(['schema-violation']);
    });

    it('checks typing that does not follow the latest version (concurrent) on the state', () => {
      const { topic, typist, server, type, joiner } = typingSetUp();
      expect(type(() => typist.editText(topic, 1, 0, 'b'))).toEqual([added]);
      const other = joiner(88n);
      const fromOther: Uint8Array[] = [];
      other.onLocalUpdate((update) => fromOther.push(update));
      other.editText(topic, 0, 0, 'z'); // made before the typist's next keystroke arrives
      expect(type(() => typist.editText(topic, 2, 0, 'c'))).toEqual([added]);
      expect(server.unsettledCount).toBe(1);
      expect(server.importUpdateBatch(fromOther).map(summary)).toEqual([added]);
      expect(server.unsettledCount).toBe(0); // checked on the state
      typist.importUpdates(fromOther[0]!);
      expectSettledToLog(server);
      expect(server.toMindMap().toJSON()).toEqual(typist.toJSON());
    });

    it('admits typing concurrent with typing elsewhere, when it saw its own text as it stands', () => {
      const { origin, topic, typist, server, type, joiner } = typingSetUp();
      let second = '';
      type(() => (second = typist.addTopic(origin.centralTopicId(), undefined, { text: 'x' })));
      expect(type(() => typist.editText(second, 1, 0, 'y'))).toEqual([added]); // checked: its first edit
      expect(type(() => typist.editText(topic, 1, 0, 'b'))).toEqual([added]); // checked: its first edit
      const other = joiner(88n);
      const fromOther: Uint8Array[] = [];
      other.onLocalUpdate((update) => fromOther.push(update));
      other.editText(second, 2, 0, 'z'); // made before the typist's next keystrokes arrive
      other.editText(second, 0, 1, '');
      expect(type(() => typist.editText(topic, 2, 0, 'c'))).toEqual([added]);
      expect(type(() => typist.editText(topic, 3, 0, 'd'))).toEqual([added]);
      expect(server.unsettledCount).toBe(2);
      // Each builds on the last change of the text it types into, though not on the typist's latest; its
      // dependencies show that at once (a later operation of the same peer), without walking the history.
      const walks = vi.spyOn(LoroDoc.prototype, 'frontiersToVV');
      expect(server.importUpdateBatch(fromOther).map(summary)).toEqual([added, added]);
      expect(server.unsettledCount).toBe(4);
      expect(walks).not.toHaveBeenCalled();
      // Typing that saw `second` before the other's keystrokes is concurrent with them: checked on the state.
      const late = joiner(89n);
      const fromLate: Uint8Array[] = [];
      late.onLocalUpdate((update) => fromLate.push(update));
      late.editText(second, 0, 0, 'w');
      expect(server.importUpdateBatch(fromLate).map(summary)).toEqual([added]);
      expect(server.unsettledCount).toBe(0);
      expect(walks).toHaveBeenCalledTimes(1);
      walks.mockRestore();
      for (const update of [...fromOther, ...fromLate]) typist.importUpdates(update);
      expectSettledToLog(server);
      expect(server.toMindMap().toJSON()).toEqual(typist.toJSON());
    });

    it('admits typing from a client that has not heard the latest updates, by the step it saw, unwalked', () => {
      const { origin, topic, typist, server, type, joiner } = typingSetUp();
      let second = '';
      expect(
        type(() => (second = typist.addTopic(origin.centralTopicId(), undefined, { text: 'x' }))),
      ).toEqual([added]);
      // A third person types into `second`; the typist hears it, then types into its own topic.
      const third = joiner(77n);
      const fromThird: Uint8Array[] = [];
      third.onLocalUpdate((update) => fromThird.push(update));
      third.editText(second, 1, 0, 'y');
      expect(server.importUpdateBatch(fromThird).map(summary)).toEqual([added]);
      for (const update of fromThird) typist.importUpdates(update);
      expect(type(() => typist.editText(topic, 1, 0, 'b'))).toEqual([added]);
      // A fourth joins now, and does not hear the typist's next keystroke before typing into `second`: its
      // change depends on the typist's keystroke alone, a version the log had one step ago, by which the third's
      // keystroke (the text's last change, of a peer not among its dependencies) was in it.
      const fourth = joiner(88n);
      expect(type(() => typist.editText(topic, 2, 0, 'c'))).toEqual([added]);
      const fromFourth: Uint8Array[] = [];
      fourth.onLocalUpdate((update) => fromFourth.push(update));
      fourth.editText(second, 2, 0, 'z');
      const before = server.unsettledCount;
      const walks = vi.spyOn(LoroDoc.prototype, 'frontiersToVV');
      expect(server.importUpdateBatch(fromFourth).map(summary)).toEqual([added]);
      expect(server.unsettledCount).toBe(before + 1); // admitted as typing
      expect(walks).not.toHaveBeenCalled();
      walks.mockRestore();
      for (const update of fromFourth) typist.importUpdates(update);
      expectSettledToLog(server);
      expect(server.toMindMap().toJSON()).toEqual(typist.toJSON());
    });

    it('admits typing that waited for a structural update once that one is checked', () => {
      const { origin, typist, server } = typingSetUp();
      const updates: Uint8Array[] = [];
      typist.onLocalUpdate((update) => updates.push(update));
      const fresh = typist.addTopic(origin.centralTopicId(), undefined, { text: '' });
      typist.editText(fresh, 0, 0, 'h');
      typist.editText(fresh, 1, 0, 'i');
      const [create, ...typing] = updates as [Uint8Array, ...Uint8Array[]];
      expect(server.importUpdateBatch(typing).map(summary)).toEqual([
        { pending: true, added: true },
        { pending: true, added: true },
      ]);
      expect(server.importUpdateBatch([create]).map(summary)).toEqual([added]);
      expect(server.hasPendingUpdates()).toBe(false);
      expect(server.toMindMap().topic(fresh)?.text).toBe('hi');
    });

    it('says which updates would wait for others, so a server can hold them back and admit each as typing', () => {
      const { topic, typist, attacker, server, joiner } = typingSetUp();
      const updates: Uint8Array[] = [];
      typist.onLocalUpdate((update) => updates.push(update));
      typist.editText(topic, 1, 0, 'b');
      typist.editText(topic, 2, 0, 'c');
      const other = joiner(99n);
      const fromOther: Uint8Array[] = [];
      other.onLocalUpdate((update) => fromOther.push(update));
      other.editText(topic, 3, 0, 'd'); // builds on the typist's two keystrokes
      const [b, c] = updates as [Uint8Array, Uint8Array];
      const d = fromOther[0]!;
      const needs = (bytes: Uint8Array) => {
        const read = server.needsOf(bytes);
        if (!read) throw new Error('an update has needs');
        return read;
      };
      expect(server.waitsFor(needs(c))).toBe(true); // the typist's own earlier operations are missing
      expect(server.waitsFor(needs(d))).toBe(true); // the change it builds on is missing
      expect(server.needsOf(new Uint8Array([1, 2, 3]))).toBeUndefined();
      expect(server.importUpdateBatch([b]).map(summary)).toEqual([added]); // checked (the text's first edit)
      expect(server.waitsFor(needs(b))).toBe(false); // a duplicate waits for nothing
      expect(server.waitsFor(needs(c))).toBe(false); // now it continues the log
      // The version it reads follows a fork back (a refusal here) and a reload (a snapshot export, below).
      expect(server.importUpdateBatch([evilField(attacker)]).map(summary)).toEqual(['schema-violation']);
      expect(server.waitsFor(needs(c))).toBe(false);
      expect(server.waitsFor(needs(d))).toBe(true);
      expect(server.importUpdateBatch([c, d]).map(summary)).toEqual([added, added]);
      // Each on its own: `c` checked (a fork back forgets which texts were checked), then `d` as typing.
      expect(server.unsettledCount).toBe(1);
      server.exportSnapshot();
      expect(server.waitsFor(needs(d))).toBe(false);
      expectSettledToLog(server);
      expect(server.toMindMap().toJSON()).toEqual(other.toJSON());
    });
  });

  it('admits what honest replicas send, late, early and twice, and its state settles to theirs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 4 }),
        mostlyTypingArb,
        // How far an update may arrive out of order (0: in order; 50: about any order).
        fc.constantFrom(0, 2, 6, 50),
        fc.array(fc.nat(), { minLength: 1, maxLength: 30 }),
        (count, script, window, jitter) => {
          const seed = seedMap();
          const replicas = replicasOf(seed, count);
          const server = ServerReplica.fromMap(seed);
          const mirror = replicasOf(seed, 1)[0]!;
          const sent = playScript(replicas, script);
          // To the server late or early by up to `window` places, each update twice, settling 0-2 steps after
          // each; now and then its settled state is compared with a map that took the same updates.
          jittered(sent, window, jitter).forEach((update, i) => {
            const [result] = server.importUpdateBatch([update]);
            expect(result?.ok && 'admitted').toBe('admitted');
            mirror.importUpdates(update);
            if (jitter[(i + 1) % jitter.length]! % 3 === 0) server.settle();
            if (i % 17 === 16) {
              expectSettledToLog(server);
              expect(server.toMindMap().toJSON()).toEqual(mirror.toJSON());
            }
          });
          for (const replica of replicas) for (const update of sent) replica.importUpdates(update);
          expect(server.hasPendingUpdates()).toBe(false);
          expectSettledToLog(server);
          expect(server.toMindMap().toJSON()).toEqual(replicas[0]!.toJSON());
        },
      ),
      { numRuns: 60 },
    );
  }, 180_000);
});
