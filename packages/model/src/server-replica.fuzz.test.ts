/**
 * A server admits whatever bytes any client sends (docs/protocol/collab.md R7, R9): honest updates damaged on
 * the way or on purpose (bits flipped, bytes changed, inserted, cut short) must be refused or change nothing, never
 * throw, and never leave the replica unable to take the honest updates after them: a room whose replica broke
 * would stop every editor of the map. The same for the other bytes of a client that reach Loro: the version
 * vector of its hello (R5) and its presence updates (R18).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MindMap } from './mind-map.ts';
import { PresenceStore, readOwnPresenceUpdate } from './presence.ts';
import { ServerReplica } from './server-replica.ts';
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
