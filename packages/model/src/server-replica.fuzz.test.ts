/**
 * A server admits whatever bytes any client sends (docs/protocol/collab.md R7, R9): honest updates damaged on
 * the way or on purpose (bits flipped, bytes changed, inserted, cut short) must be refused or change nothing, never
 * throw, and never leave the replica unable to take the honest updates after them: a room whose replica broke
 * would stop every editor of the map. The same for the other bytes of a client that reach Loro: the version
 * vector of its hello (R5) and its presence updates (R18).
 */
import fc from 'fast-check';
import { LoroDoc, LoroText } from 'loro-crdt';
import { describe, expect, it } from 'vitest';
import { MAX_TEXT_LENGTH, MAX_TITLE_LENGTH } from './limits.ts';
import { MindMap } from './mind-map.ts';
import { PresenceStore, readOwnPresenceUpdate } from './presence.ts';
import { ServerReplica } from './server-replica.ts';
import { validateState } from './state-validation.ts';
import { replicasOf } from './test-replicas.ts';

/** An editor's updates: new topics, typing, moves and notes, in random order. */
function editorUpdates(
  rnd: () => number,
  count: number,
): { origin: MindMap; editor: MindMap; updates: Uint8Array[] } {
  const [origin, editor] = replicasOf(MindMap.create('t'), 2) as [MindMap, MindMap];
  const updates: Uint8Array[] = [];
  editor.onLocalUpdate((u) => updates.push(u));
  const topics = [editor.centralTopicId()];
  const any = () => topics[Math.floor(rnd() * topics.length)]!;
  for (let i = 0; i < count; i++) {
    const r = rnd();
    if (r < 0.3) topics.push(editor.addTopic(any(), undefined, { text: `t${i}` }));
    else if (r < 0.75) editor.editText(any(), 0, 0, 'x');
    else if (r < 0.85 && topics.length > 2)
      editor.moveTopic(topics[1 + Math.floor(rnd() * (topics.length - 1))]!, null);
    else editor.setNotes(any(), `<p>note ${i}</p>`);
  }
  return { origin, editor, updates };
}

/** `update` damaged one way or another. */
function damaged(update: Uint8Array, rnd: () => number): Uint8Array {
  const bytes = Uint8Array.from(update);
  const at = () => Math.floor(rnd() * bytes.length);
  const kind = rnd();
  if (kind < 0.4) {
    for (let k = 0; k < 1 + Math.floor(rnd() * 3); k++) bytes[at()]! ^= 1 << Math.floor(rnd() * 8);
    return bytes;
  }
  if (kind < 0.6) return bytes.subarray(0, at());
  if (kind < 0.8) {
    bytes[at()] = Math.floor(rnd() * 256);
    return bytes;
  }
  const i = at();
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes.subarray(0, i));
  out[i] = Math.floor(rnd() * 256);
  out.set(bytes.subarray(i), i + 1);
  return out;
}

describe('ServerReplica on damaged updates', () => {
  it('refuses them or takes them as sent, never throws, and still admits the honest updates after them', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        let state = seed;
        const rnd = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
        const { origin, editor, updates } = editorUpdates(rnd, 60);
        const server = ServerReplica.fromMap(origin);
        // The same updates undamaged: what the server must hold after each honest update.
        const honestOnly = ServerReplica.fromMap(origin);
        for (const update of updates) {
          // A damaged byte that no check covers (Loro's header has spare checksum bytes) can leave an update
          // that is still the honest one: admitted, and the same as what its author sent.
          for (let k = 0; k < 8; k++) server.importUpdateBatch([damaged(update, rnd)]);
          const [honest] = server.importUpdateBatch([update]);
          expect(honest?.ok).toBe(true);
          honestOnly.importUpdateBatch([update]);
          expect(server.toMindMap().toJSON()).toEqual(honestOnly.toMindMap().toJSON());
        }
        expect(server.toMindMap().toJSON()).toEqual(editor.toJSON());
      }),
      { numRuns: 4 },
    );
  });
});

/** A seeded generator (the same as above), so that a failing seed replays. */
const seeded = (seed: number) => {
  let state = seed;
  return () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
};

describe('the other client bytes that reach Loro, damaged', () => {
  it('a hello’s version vector: a sync from it answers or fails, never throws, and the replica still serves', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        const rnd = seeded(seed);
        const { origin, editor, updates } = editorUpdates(rnd, 40);
        const server = ServerReplica.fromMap(origin);
        const half = Math.floor(updates.length / 2);
        for (const u of updates.slice(0, half)) server.importUpdateBatch([u]);
        const vector = editor.versionVector();
        for (let k = 0; k < 40; k++) {
          const bytes = k % 8 === 0 ? randomBytes(rnd) : damaged(vector, rnd);
          const answer = server.exportUpdatesSince(bytes);
          if (answer.ok) expect(answer.value).toBeInstanceOf(Uint8Array);
        }
        for (const u of updates.slice(half)) expect(server.importUpdateBatch([u])[0]?.ok).toBe(true);
        // An honest client at the origin's version gets everything, and ends as the editor.
        const fresh = MindMap.fromSnapshot(origin.exportSnapshot());
        if (!fresh.ok) throw fresh.error;
        const sync = server.exportUpdatesSince(fresh.value.versionVector());
        if (!sync.ok) throw sync.error;
        expect(fresh.value.importUpdates(sync.value).ok).toBe(true);
        expect(fresh.value.toJSON()).toEqual(editor.toJSON());
      }),
      { numRuns: 4 },
    );
  });

  it('a presence update: read as the member’s own or refused, never throws, and honest ones still read', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        const rnd = seeded(seed);
        const key = 's1';
        const client = new PresenceStore(60_000);
        const room = new PresenceStore(60_000);
        try {
          for (let i = 0; i < 30; i++) {
            const state = { selection: [`topic-${i}`], name: 'x'.repeat(Math.floor(rnd() * 40)) };
            client.set(key, state);
            const honest = client.encode(key);
            for (let k = 0; k < 8; k++) {
              const bytes = k === 0 ? randomBytes(rnd) : damaged(honest, rnd);
              const read = readOwnPresenceUpdate(bytes, key);
              if (read.ok && read.value.kind === 'set') expect(read.value.value).toBeDefined();
              // The room's store (what another node relays) takes the same bytes without harm.
              room.apply(bytes);
            }
            const read = readOwnPresenceUpdate(honest, key);
            expect(read.ok && read.value).toEqual({ kind: 'set', value: state });
            expect(room.apply(honest).ok).toBe(true);
          }
        } finally {
          client.destroy();
          room.destroy();
        }
      }),
      { numRuns: 4 },
    );
  });
});

/** Up to 64 random bytes. */
function randomBytes(rnd: () => number): Uint8Array {
  return Uint8Array.from({ length: Math.floor(rnd() * 65) }, () => Math.floor(rnd() * 256));
}

/**
 * Typing is admitted from its operations, without a state check (R9), when it follows the log's latest version
 * (or builds on the last change of its text) and each operation falls inside its text and keeps it within its
 * limit: that position check is all that stands between a hostile client and the state. Loro's own API will not
 * make a keystroke at a position its text lacks, so a hostile peer edits the JSON form of real keystrokes (how far,
 * how long, which text, what kind) and sends them, after the latest version or from an older one, between an
 * honest typist's keystrokes. Whatever is admitted must leave a state that a full validation accepts and that the
 * log alone leads to, and the typist must end up with what the server holds.
 */
describe('ServerReplica on forged typing', () => {
  it('admits only what leaves a valid state, never throws, and the honest typist converges with it', () => {
    let admittedForgeries = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        let state = seed;
        const rnd = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
        const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
        const origin = MindMap.create('t');
        const topic = origin.addTopic(origin.centralTopicId(), undefined, { text: 'abc' });
        origin.setNotes(topic, '<p>n</p>');
        const [typist] = replicasOf(origin, 1) as [MindMap];
        const server = ServerReplica.fromMap(origin);
        const keystrokes: Uint8Array[] = [];
        typist.onLocalUpdate((u) => keystrokes.push(u));
        const logs: Uint8Array[] = [server.exportSnapshot()];

        /** A real keystroke on `base` (a snapshot of the log), its JSON edited, as an update from `base`. */
        const forge = (base: Uint8Array): Uint8Array | undefined => {
          const peer = new LoroDoc();
          peer.import(base);
          const from = peer.oplogVersion();
          const data = peer.getTree('topics').roots()[0]?.children()?.[0]?.data;
          const texts = [data?.get('text'), data?.get('notesHtml'), peer.getText('title')].filter(
            (t): t is LoroText => t instanceof LoroText,
          );
          if (texts.length === 0) return undefined;
          const text = pick(texts);
          const points = [...text.toString()]; // JSON positions count code points, `insert` UTF-16 units
          text.insert(points.slice(0, Math.floor(rnd() * (points.length + 1))).join('').length, 'x');
          peer.commit();
          const json = peer.exportJsonUpdates(from, peer.oplogVersion());
          const op = json.changes[0]!.ops[0]!;
          const content = op.content as Record<string, unknown>;
          const length = points.length;
          const kinds = 1 + Math.floor(rnd() * 2);
          for (let k = 0; k < kinds; k++) {
            const r = rnd();
            if (r < 0.25) content.pos = pick([-1, length, length + 1, length + 50, 2 ** 31, 0.5, -(2 ** 31)]);
            else if (r < 0.45)
              Object.assign(content, {
                type: 'delete',
                pos: pick([0, 1, length - 1, length]),
                len: pick([1, 2, length, length + 1, 0, -1, -length - 1]),
                start_id: `${Math.floor(rnd() * 5)}@${peer.peerIdStr}`,
              });
            else if (r < 0.65)
              content.text = pick([
                'y'.repeat(MAX_TEXT_LENGTH),
                'z'.repeat(MAX_TITLE_LENGTH + 1),
                '😀'.repeat(600),
                '\ud800',
                '',
                'ok',
              ]);
            else if (r < 0.8)
              op.container = pick(
                texts.map((t) => t.id).concat(['cid:root-topics:Tree', 'cid:root-meta:Map']),
              );
            else if (r < 0.9) content.type = pick(['mark', 'unmark', 'insert', 'style', 42]);
            else json.changes[0]!.lamport += pick([-1, 1, 1000]);
          }
          const carrier = new LoroDoc();
          carrier.import(base);
          carrier.detach(); // takes the operations into its log without applying them
          try {
            carrier.importJsonUpdates(json);
            return carrier.export({ mode: 'update', from });
          } catch {
            return undefined; // Loro would not take it in: no bytes to send
          }
        };

        for (let step = 0; step < 40; step++) {
          if (rnd() < 0.5) {
            keystrokes.length = 0;
            const points = [...(typist.topic(topic)?.text ?? '')];
            const at = points.slice(0, Math.floor(rnd() * (points.length + 1))).join('').length; // UTF-16
            typist.editText(topic, at, 0, pick(['k', 'é', '😀']));
            const [result] = server.importUpdateBatch(keystrokes);
            // Refused only when the text is at its limit (forgeries may have filled it).
            if (!result!.ok)
              expect([...(server.toMindMap().topic(topic)?.text ?? '')].length).toBeGreaterThan(1);
          } else {
            // After the latest version most of the time (the fast path), else from an older log (concurrent).
            const base = rnd() < 0.75 ? server.exportSnapshot() : pick(logs);
            const forged = forge(base);
            if (!forged) continue;
            let results: ReturnType<ServerReplica['importUpdateBatch']> = [];
            expect(() => (results = server.importUpdateBatch([forged]))).not.toThrow();
            if (results[0]?.ok && results[0].value.added) admittedForgeries++;
          }
          if (step % 8 === 7) logs.push(server.exportSnapshot());
        }
        server.settle();
        const fromLog = new LoroDoc();
        fromLog.import(server.exportSnapshot());
        expect(validateState(fromLog)).toEqual([]);
        expect(server.stateValue()).toEqual(fromLog.toJSON());
        const forTypist = server.exportUpdatesSince(typist.versionVector());
        if (!forTypist.ok) throw forTypist.error;
        const synced = typist.importUpdates(forTypist.value);
        if (!synced.ok) throw synced.error;
        expect(typist.toJSON()).toEqual(server.toMindMap().toJSON());
      }),
      { numRuns: Number(process.env.CANOPY_FUZZ_RUNS ?? 60), seed: 20261206, verbose: 2 },
    );
    // The forgeries that Loro takes and the check admits (valid ones: a keystroke forged into another one).
    expect(admittedForgeries).toBeGreaterThan(0);
  }, 1_800_000); // an exploratory run (CANOPY_FUZZ_RUNS=1500: ~70 s) takes longer than a test's default
});
