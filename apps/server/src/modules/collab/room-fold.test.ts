import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { MindMap, ServerReplica } from '@canopy/model';
import { LogPosition } from './log-position.ts';
import { MIRROR_BATCH, MapMirrors, MirrorLink, type MirrorThreadEnd } from './mirrors.ts';
import { RoomFold, type FoldSource } from './room-fold.ts';

const logger = pino({ level: 'silent' });

/**
 * An idle room as its fold reads it: a replica holding the stored map, its position, and its mirror link over
 * real mirror threads (`maxBacklog` small, so that a thread can be made to fall behind).
 */
function idleRoom(mirrors: MapMirrors) {
  const origin = MindMap.create('folded');
  const snapshot = origin.exportSnapshot();
  const opened = ServerReplica.open(snapshot, []);
  if (!opened.ok) throw opened.error;
  const replica = opened.value;
  const loaded = MindMap.fromSnapshot(snapshot, { peerId: 9n });
  if (!loaded.ok) throw loaded.error;
  const editor = loaded.value;
  const sent: Uint8Array[] = [];
  editor.onLocalUpdate((update) => sent.push(update));
  const mirror = new MirrorLink(mirrors);
  mirror.reset({ replica, seq: 0, stored: { snapshot, updates: [] } });
  const position = new LogPosition(0);
  const room: FoldSource = {
    closed: false,
    generation: 1,
    committing: false,
    uncommitted: false,
    catchingUp: false,
    position,
    replica,
    mirror,
  };
  /** The editor's updates since the last call, admitted, stored (as seqs) and sent to the mirror. */
  const store = () => {
    const updates = sent.splice(0);
    for (const r of replica.importUpdateBatch(updates)) if (!r.ok) throw r.error;
    position.committed(updates.map((_u, i) => position.seq + i + 1));
    mirror.apply(updates);
  };
  return { room, editor, store, fold: new RoomFold(() => room) };
}

const json = (snapshot: Uint8Array) => {
  const map = MindMap.fromSnapshot(snapshot);
  if (!map.ok) throw map.error;
  return map.value.toJSON();
};

describe("a room's fold (R22)", () => {
  let mirrors: MapMirrors | undefined;
  afterEach(async () => {
    await mirrors?.close();
    mirrors = undefined;
  });

  it('folds from the mirror while its thread keeps up, without exporting the replica', async () => {
    mirrors = new MapMirrors(logger);
    const { room, editor, store, fold } = idleRoom(mirrors);
    editor.addTopic(editor.centralTopicId(), undefined, { text: 'stored' });
    store();
    let exported = 0;
    const exportSnapshot = room.replica.exportSnapshot.bind(room.replica);
    room.replica.exportSnapshot = () => (exported++, exportSnapshot());
    const state = await fold.durableSnapshot();
    expect(exported).toBe(0);
    expect(state?.seq).toBe(1);
    expect(json(state!.snapshot)).toEqual(editor.toJSON());
  });

  it('opens a new mirror from the replica state it folds once its thread was ended, and folds from that one next', async () => {
    const ends: MirrorThreadEnd[] = [];
    mirrors = new MapMirrors(logger, MIRROR_BATCH + 8, (reason) => ends.push(reason));
    const { room, editor, store, fold } = idleRoom(mirrors);
    const topic = editor.addTopic(editor.centralTopicId(), undefined, { text: '' });
    store();
    // Two batches within one turn of the event loop: the thread cannot have said it applied the first.
    for (let i = 0; i < 2 * MIRROR_BATCH; i++) {
      editor.editText(topic, i, 0, 'k');
      store();
    }
    expect(ends).toEqual(['overrun']);
    expect(room.mirror.lost).toBe(true);

    // The room is idle: its replica's state is folded, and the mirror opens again from it.
    let exported = 0;
    const exportSnapshot = room.replica.exportSnapshot.bind(room.replica);
    room.replica.exportSnapshot = () => (exported++, exportSnapshot());
    const fromReplica = await fold.durableSnapshot();
    expect(exported).toBe(1);
    expect(fromReplica?.seq).toBe(1 + 2 * MIRROR_BATCH);
    expect(json(fromReplica!.snapshot)).toEqual(editor.toJSON());
    expect(room.mirror.lost).toBe(false);
    expect(room.mirror.opened).toBe(false);

    // The next stored update opens it on a new thread; the next fold comes from there.
    editor.addTopic(editor.centralTopicId(), undefined, { text: 'after the new mirror' });
    store();
    expect(room.mirror.opened).toBe(true);
    const fromMirror = await fold.durableSnapshot();
    expect(exported).toBe(1);
    expect(fromMirror?.seq).toBe(2 + 2 * MIRROR_BATCH);
    expect(json(fromMirror!.snapshot)).toEqual(editor.toJSON());
    expect(ends).toEqual(['overrun']);
  });
});
