/**
 * A server admits whatever bytes any client sends (docs/protocol/collab.md R7, R9): honest updates damaged on
 * the way or on purpose (bits flipped, bytes changed, inserted, cut short) must be refused or change nothing, never
 * throw, and never leave the replica unable to take the honest updates after them: a room whose replica broke
 * would stop every editor of the map.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MindMap } from './mind-map.ts';
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
