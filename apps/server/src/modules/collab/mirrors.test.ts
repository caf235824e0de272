import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { MindMap, ServerReplica } from '@canopy/model';
import { readFileSync, readdirSync } from 'node:fs';
import { LogPosition } from './log-position.ts';
import { MIRROR_BATCH, MIRROR_NICE, MapMirrors, MirrorLink, type MirrorThreadEnd } from './mirrors.ts';
import { RoomFold, type FoldSource } from './room-fold.ts';

const logger = pino({ level: 'silent' });
/**
 * A Loro snapshot in the pre-release v0 layout (packages/model/src/migrations.ts): `document.title` "Old map"
 * and one topic whose `text` is "Central", no schema version. Made with loro-crdt 1.17 (only the model touches
 * Loro, so the bytes are kept here).
 */
const V0_MAP =
  'bG9ybwAAAAAAAAAAAAAAAOPJaE8AA8QAAABMT1JPAAADAAMBEAEHAAAAAAAAAAEBAAAAAAAFAQAAAQAQAwQBAAAEBAEDAAYEAAAAAhsFdGl0bGUEdGV4dAhkb2N1bWVudAZ0b3BpY3MJAQICAQADAQGAFAEEBAEABAIEBAABAgQFCxALAgYBABYFB09sZCBtYXAAAQABBQdDZW50cmFsAAIAZnIBBwQAAgB2dgEHBgAAgACIAAMAacFNIgEAAAAFAAAADAAAAAAAAAAABwAAAAAAAgB2driiCZChAAAAvAAAAExPUk8ABCJNGGBAgnoAAADzEAACAQAGdG9waWNzBAEEdGV4dAQHQ2VudHJhbAABBwABAPcSAgAKAIAIZG9jdW1lbnQAAQABBXRpdGxlBAdPbGQgbWFwLABTAAAIAINTACYDAUUAkQQCAgEAAgECBQcAAAoAAQYAIQAJCQDQAwEBgAAAACcAUwADAAAAAADQsvclAQAAAAUAAAANAAAHAAAAAAAAAAEAAAABCACDBnRvcGljc0UiA8OSAAAAAAAAAA==';

/** A stored map (snapshot + log) and an editor whose further updates the test hands to the mirror. */
function storedMap() {
  const origin = MindMap.create('mirrored');
  const snapshot = origin.exportSnapshot();
  const loaded = MindMap.fromSnapshot(snapshot, { peerId: 7n });
  if (!loaded.ok) throw loaded.error;
  const editor = loaded.value;
  const updates: Uint8Array[] = [];
  editor.onLocalUpdate((update) => updates.push(update));
  return { snapshot, editor, updates };
}

const json = (snapshot: Uint8Array) => {
  const map = MindMap.fromSnapshot(snapshot);
  if (!map.ok) throw map.error;
  return map.value.toJSON();
};

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

describe('the mirror thread (R22)', () => {
  let mirrors: MapMirrors | undefined;
  afterEach(async () => {
    await mirrors?.close();
    mirrors = undefined;
  });

  it('holds the stored map plus what it is sent, in order, and exports it with its title', async () => {
    mirrors = new MapMirrors(logger);
    const { snapshot, editor, updates } = storedMap();
    editor.addTopic(editor.centralTopicId(), undefined, { text: 'in the log' });
    const mirror = mirrors.open(snapshot, updates.splice(0));
    editor.setTitle('renamed');
    editor.addTopic(editor.centralTopicId(), undefined, { text: 'stored later' });
    mirror.apply(updates.splice(0));
    const asked = mirror.snapshot();
    editor.addTopic(editor.centralTopicId(), undefined, { text: 'after the question' });
    mirror.apply(updates.splice(0));
    const state = await asked;
    expect(state?.title).toBe('renamed');
    const texts = json(state!.snapshot).root.children.map((topic) => topic.text);
    expect(texts).toEqual(['in the log', 'stored later']);
    expect(json((await mirror.snapshot())!.snapshot)).toEqual(editor.toJSON());
  });

  it('exports nothing while an update waits for one it depends on', async () => {
    mirrors = new MapMirrors(logger);
    const { snapshot, editor, updates } = storedMap();
    editor.addTopic(editor.centralTopicId(), undefined, { text: 'first' });
    editor.addTopic(editor.centralTopicId(), undefined, { text: 'second' });
    const [first, second] = updates as [Uint8Array, Uint8Array];
    const mirror = mirrors.open(snapshot, []);
    mirror.apply([second]);
    expect(await mirror.snapshot()).toBeUndefined();
    mirror.apply([first]);
    expect(json((await mirror.snapshot())!.snapshot)).toEqual(editor.toJSON());
  });

  it('holds stored updates and sends them in batches, all of them when asked for a snapshot', async () => {
    mirrors = new MapMirrors(logger);
    const { snapshot, editor, updates } = storedMap();
    const mirror = mirrors.open(snapshot, []);
    const topic = editor.addTopic(editor.centralTopicId(), undefined, { text: '' });
    // One commit per keystroke, as a room at the load: more than a batch, then some held.
    for (let i = 0; i < MIRROR_BATCH + 40; i++) {
      editor.editText(topic, i, 0, 'k');
      mirror.apply(updates.splice(0));
    }
    expect(json((await mirror.snapshot())!.snapshot)).toEqual(editor.toJSON());
    editor.editText(topic, 0, 0, 'held, then dropped with the mirror');
    mirror.apply(updates.splice(0));
    mirror.close();
    expect(await mirror.snapshot()).toBeUndefined();
  });

  it.runIf(process.platform === 'linux')(
    'runs below the event loop: its thread alone has a higher nice',
    async () => {
      const nices = () =>
        readdirSync('/proc/self/task').map((tid) => {
          const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
        });
      const before = nices().filter((nice) => nice === MIRROR_NICE).length;
      mirrors = new MapMirrors(logger);
      const { snapshot } = storedMap();
      expect(await mirrors.open(snapshot, []).snapshot()).toBeDefined();
      expect(nices().filter((nice) => nice === MIRROR_NICE).length).toBe(before + 1);
      expect(nices()[0]).not.toBe(MIRROR_NICE);
    },
  );

  it('ends a thread that falls too far behind: its mirrors answer nothing, a later mirror starts a new one', async () => {
    const logged: { msg: string; backlog?: number }[] = [];
    const watched = pino(
      { level: 'warn' },
      { write: (line: string) => void logged.push(JSON.parse(line) as (typeof logged)[number]) },
    );
    const ends: MirrorThreadEnd[] = [];
    mirrors = new MapMirrors(watched, MIRROR_BATCH + 8, (reason) => ends.push(reason));
    const { snapshot, editor, updates } = storedMap();
    const mirror = mirrors.open(snapshot, []);
    expect(mirror.ended).toBe(false);
    const topic = editor.addTopic(editor.centralTopicId(), undefined, { text: '' });
    // Two batches within one turn of the event loop: the thread cannot have said it applied the first.
    for (let i = 0; i < 2 * MIRROR_BATCH; i++) {
      editor.editText(topic, i, 0, 'k');
      mirror.apply(updates.splice(0));
    }
    expect(await mirror.snapshot()).toBeUndefined();
    expect(mirror.ended).toBe(true);
    expect(ends).toEqual(['overrun']);
    expect(logged).toContainEqual(expect.objectContaining({ backlog: 2 * MIRROR_BATCH }));
    const later = storedMap();
    expect((await mirrors.open(later.snapshot, []).snapshot())?.title).toBe('mirrored');
  });

  it('counts the backlog down as the thread applies: batches it keeps up with never end it', async () => {
    mirrors = new MapMirrors(logger, MIRROR_BATCH + 8);
    const { snapshot, editor, updates } = storedMap();
    const mirror = mirrors.open(snapshot, []);
    const topic = editor.addTopic(editor.centralTopicId(), undefined, { text: '' });
    for (let batch = 0; batch < 4; batch++) {
      for (let i = 0; i < MIRROR_BATCH; i++) {
        editor.editText(topic, 0, 0, 'k');
        mirror.apply(updates.splice(0));
      }
      // The thread's "applied" comes before its answer: the backlog is back to what is held here.
      expect(await mirror.snapshot()).toBeDefined();
    }
    expect(json((await mirror.snapshot())!.snapshot)).toEqual(editor.toJSON());
  });

  it('keeps rooms apart, forgets a closed one, answers nothing once its thread is gone, and says its Loro memory', async () => {
    const ends: MirrorThreadEnd[] = [];
    mirrors = new MapMirrors(logger, undefined, (reason) => ends.push(reason));
    expect(mirrors.loroHeapSize).toBe(0);
    const one = storedMap();
    const other = storedMap();
    other.editor.setTitle('other');
    const a = mirrors.open(one.snapshot, []);
    const b = mirrors.open(other.snapshot, other.updates.splice(0));
    expect((await a.snapshot())?.title).toBe('mirrored');
    expect((await b.snapshot())?.title).toBe('other');
    // The thread said how large Loro's memory there is after opening them (its first page and up).
    expect(mirrors.loroHeapSize).toBeGreaterThanOrEqual(64 * 1024);
    b.close();
    expect(await b.snapshot()).toBeUndefined();
    await mirrors.close();
    expect(await a.snapshot()).toBeUndefined();
    expect(mirrors.loroHeapSize).toBe(0);
    // Closing is no end to count.
    expect(a.ended).toBe(true);
    expect(ends).toEqual([]);
  });

  it("opens a migrated map's mirror from the replica's own log, which holds the migration", async () => {
    mirrors = new MapMirrors(logger);
    // A map stored in the pre-release v0 layout (no schema version): loading it migrates it in memory.
    const stored = { snapshot: Buffer.from(V0_MAP, 'base64'), updates: [] };
    const opened = ServerReplica.open(stored.snapshot, []);
    if (!opened.ok) throw opened.error;
    const replica = opened.value;
    expect(replica.migrated).toBe(true);
    // A client's edit builds on the migrated map the room served it.
    const client = replica.toMindMap();
    const sent: Uint8Array[] = [];
    client.onLocalUpdate((update) => sent.push(update));
    client.setTitle('Renamed');
    const link = new MirrorLink(mirrors);
    link.reset({ replica, seq: 0, stored });
    expect(link.opened).toBe(false);
    link.apply(sent);
    expect(link.opened).toBe(true);
    const state = await link.snapshot();
    expect(state?.title).toBe('Renamed');
    expect(json(state!.snapshot)).toEqual(client.toJSON());
    link.close();
    expect(await link.snapshot()).toBeUndefined();
  });

  describe("a room's fold", () => {
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
});
