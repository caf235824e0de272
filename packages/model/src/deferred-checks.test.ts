/**
 * A `ServerReplica` whose checks are deferred to a `MapMirror` (`deferChecks`), driven as a room drives the
 * pair (collab/room.ts, docs/protocol/collab.md R9): typing is admitted by the replica and applied to the
 * mirror; any other update waits for the mirror's check, then is confirmed or rejected.
 */
import fc from 'fast-check';
import { LoroDoc, type LoroText } from 'loro-crdt';
import { describe, expect, it } from 'vitest';
import { MapMirror } from './map-mirror.ts';
import { MindMap } from './mind-map.ts';
import { ServerReplica } from './server-replica.ts';
import { jittered, mostlyTypingArb, playScript, seedMap } from './test-ops.ts';
import { evilField, hostileUpdate, replicasOf } from './test-replicas.ts';

/** The replica and its mirror from `origin`, and `admit`, which does what a room does with an update. */
function deferredPair(origin: MindMap) {
  const server = ServerReplica.fromMap(origin);
  const mirror = MapMirror.open(origin.exportSnapshot(), []);
  server.deferChecks();
  let checks = 0;
  const admit = (update: Uint8Array) => {
    const result = server.admitDeferred(update);
    if ('ok' in result) {
      if (result.ok && result.value.added) mirror.apply([update]);
      return result.ok ? result.value : result.error.code;
    }
    checks++;
    const verdict = mirror.check(update);
    if (!verdict.ok) {
      server.reject(result);
      return verdict.code;
    }
    const confirmed = server.confirm(result, verdict.texts);
    return confirmed.ok ? confirmed.value : confirmed.error.code;
  };
  const mirrored = () => {
    const state = mirror.export();
    if (!state) throw new Error('the mirror cannot export');
    const map = MindMap.fromSnapshot(state.snapshot);
    if (!map.ok) throw map.error;
    return map.value.toJSON();
  };
  return { server, mirror, admit, mirrored, checks: () => checks };
}

const added = { pending: false, added: true };
const topicText = (index: number) => (doc: LoroDoc) =>
  doc.getTree('topics').roots()[0]!.children()![index]!.data.get('text') as LoroText;

describe('ServerReplica with its checks deferred to a MapMirror (R9)', () => {
  it('admits typing itself, has the mirror check the rest, and never moves its own state for either', () => {
    const origin = MindMap.create('t');
    const [editor] = replicasOf(origin, 1) as [MindMap];
    const { server, admit, mirrored, checks } = deferredPair(origin);
    const updates: Uint8Array[] = [];
    editor.onLocalUpdate((update) => updates.push(update));
    const topic = editor.addTopic(editor.centralTopicId(), undefined, { text: 'ab' });
    expect(admit(updates.pop()!)).toEqual(added);
    expect(checks()).toBe(1);
    const before = JSON.stringify(server.stateValue());
    for (let i = 0; i < 40; i++) {
      editor.editText(topic, 2 + i, 0, 'x');
      expect(admit(updates.pop()!)).toEqual(added);
    }
    // The mirror measured the text it created: typing into it needed no check, and the state here stayed.
    expect(checks()).toBe(1);
    expect(server.unsettledCount).toBe(0);
    expect(JSON.stringify(server.stateValue())).toBe(before);
    editor.moveTopic(topic, editor.centralTopicId(), 0);
    editor.setTitle('renamed');
    for (const update of updates.splice(0)) expect(admit(update)).toEqual(added);
    expect(mirrored()).toEqual(editor.toJSON());
    // Whatever reads the state brings it up to date first.
    expect(server.title()).toBe('renamed');
    expect(server.toMindMap().toJSON()).toEqual(editor.toJSON());
  });

  it('refuses what the mirror refuses, and both go on from the version before it', () => {
    const origin = MindMap.create('t');
    origin.addTopic(origin.centralTopicId(), undefined, { text: 'plain', notesHtml: '<p>n</p>' });
    const [editor, attacker] = replicasOf(origin, 2) as [MindMap, MindMap];
    const { server, admit, mirrored } = deferredPair(origin);
    const updates: Uint8Array[] = [];
    editor.onLocalUpdate((update) => updates.push(update));
    const topic = editor.addTopic(editor.centralTopicId(), undefined, { text: 'one' });
    editor.setText(topic, 'two');
    const [created, typed] = updates.splice(0) as [Uint8Array, Uint8Array];
    const tooLong = hostileUpdate(attacker, (doc) => topicText(0)(doc).insert(0, 'x'.repeat(10_001)));
    // What waits for its dependencies stays waiting across a refusal.
    expect([admit(typed), admit(tooLong), admit(evilField(attacker))]).toEqual([
      { pending: true, added: true },
      'schema-violation',
      'schema-violation',
    ]);
    expect(server.hasPendingUpdates()).toBe(true);
    expect(admit(created)).toEqual(added);
    expect(server.hasPendingUpdates()).toBe(false);
    // An insert at a position the text does not have (Loro's API will not make one: a hostile peer edits the
    // JSON form of a real keystroke): the typing check cannot place it, the mirror's state cannot take it.
    const peer = new LoroDoc();
    peer.import(editor.exportSnapshot());
    const from = peer.oplogVersion();
    topicText(0)(peer).insert(1, 'x');
    peer.commit();
    const json = peer.exportJsonUpdates(from, peer.oplogVersion());
    json.changes[0]!.ops[0]!.content = {
      ...json.changes[0]!.ops[0]!.content,
      pos: 99,
    } as (typeof json.changes)[0]['ops'][0]['content'];
    const carrier = new LoroDoc();
    carrier.import(editor.exportSnapshot());
    carrier.detach(); // takes the operation into its log without applying it
    carrier.importJsonUpdates(json);
    expect(admit(carrier.export({ mode: 'update', from }))).toBe('malformed-update');
    editor.setTitle('after the refusals');
    for (const update of updates.splice(0)) expect(admit(update)).toEqual(added);
    expect(mirrored()).toEqual(editor.toJSON());
    expect(server.toMindMap().toJSON()).toEqual(editor.toJSON());
  });

  it('takes in validated updates unchecked, then checks typing into the texts they wrote to', () => {
    const origin = MindMap.create('t');
    const topic = origin.addTopic(origin.centralTopicId(), undefined, { text: 'abc' });
    const [editor, elsewhere] = replicasOf(origin, 2) as [MindMap, MindMap];
    const { server, mirror, admit, mirrored, checks } = deferredPair(origin);
    const updates: Uint8Array[] = [];
    editor.onLocalUpdate((update) => updates.push(update));
    editor.editText(topic, 3, 0, 'd');
    expect(admit(updates.pop()!)).toEqual(added); // a text the replica has not measured: checked
    expect(checks()).toBe(1);
    editor.editText(topic, 4, 0, 'e');
    expect(admit(updates.pop()!)).toEqual(added);
    expect(checks()).toBe(1);
    // Another node stored a change to that text: its length is no longer known here.
    const stored: Uint8Array[] = [];
    elsewhere.onLocalUpdate((update) => stored.push(update));
    elsewhere.editText(topic, 0, 0, 'zz');
    for (const update of stored) {
      mirror.apply([update], true);
      expect(server.importValidated(update)).toMatchObject({ ok: true, value: added });
      editor.importUpdates(update);
    }
    editor.editText(topic, 0, 0, 'y');
    expect(admit(updates.pop()!)).toEqual(added);
    expect(checks()).toBe(2);
    expect(mirrored()).toEqual(editor.toJSON());
    expect(server.toMindMap().toJSON()).toEqual(editor.toJSON());
  });

  it('checks on its own state again once it stops deferring', () => {
    const origin = MindMap.create('t');
    const [editor, attacker] = replicasOf(origin, 2) as [MindMap, MindMap];
    const { server, admit } = deferredPair(origin);
    const updates: Uint8Array[] = [];
    editor.onLocalUpdate((update) => updates.push(update));
    const topic = editor.addTopic(editor.centralTopicId(), undefined, { text: '' });
    for (let i = 0; i < 10; i++) editor.editText(topic, i, 0, 'k');
    for (const update of updates.splice(0)) expect(admit(update)).toEqual(added);
    server.stopDeferring();
    expect(server.defers).toBe(false);
    expect(server.importUpdateBatch([evilField(attacker)])[0]).toMatchObject({
      ok: false,
      error: { code: 'schema-violation' },
    });
    editor.editText(topic, 10, 0, '!');
    expect(server.importUpdateBatch(updates.splice(0))[0]).toMatchObject({ ok: true });
    expect(server.toMindMap().toJSON()).toEqual(editor.toJSON());
  });

  it('admits what honest replicas send, late, early and twice, and ends where they and its mirror do', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 4 }),
        mostlyTypingArb,
        fc.constantFrom(0, 2, 6, 50),
        fc.array(fc.nat(), { minLength: 1, maxLength: 30 }),
        (count, script, window, jitter) => {
          const seed = seedMap();
          const replicas = replicasOf(seed, count);
          const { server, admit, mirrored } = deferredPair(seed);
          const sent = playScript(replicas, script);
          for (const update of jittered(sent, window, jitter)) expect(typeof admit(update)).toBe('object');
          for (const replica of replicas) for (const update of sent) replica.importUpdates(update);
          expect(server.hasPendingUpdates()).toBe(false);
          expect(mirrored()).toEqual(replicas[0]!.toJSON());
          expect(server.toMindMap().toJSON()).toEqual(replicas[0]!.toJSON());
        },
      ),
      { numRuns: 60 },
    );
  }, 180_000);
});
