import { MindMap } from '@canopy/model';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CollabClient } from './client.ts';
import { encodeServer } from './protocol.ts';
import { FakeRoomPresence, FakeSocket, presenceSent } from './testing.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A replica restored from a stored snapshot that holds an edit the server never received. */
function restoredWithOfflineEdit(server: MindMap): MindMap {
  const before = MindMap.fromSnapshot(server.exportSnapshot());
  if (!before.ok) throw before.error;
  before.value.addTopic(before.value.toJSON().root.id, undefined, { text: 'Written offline' });
  const reloaded = MindMap.fromSnapshot(before.value.exportSnapshot());
  if (!reloaded.ok) throw reloaded.error;
  return reloaded.value;
}

async function welcomed(client: CollabClient, server: MindMap): Promise<FakeSocket> {
  client.connect();
  await tick();
  const socket = FakeSocket.last!;
  socket.open();
  socket.receive(encodeServer.welcome('editor', 1, server.versionVector(), new Uint8Array()));
  return socket;
}

describe('CollabClient with a given replica', () => {
  it('with pendingEdits, sends what the server lacks on the first welcome and is saved once acknowledged', async () => {
    const server = MindMap.create('Plans', { peerId: 99n });
    const client = new CollabClient({
      map: restoredWithOfflineEdit(server),
      pendingEdits: true,
      url: () => 'wss://canopy.example/collab/m1',
      WebSocket: FakeSocket,
    });
    expect(client.saveState).toBe('unsynced');
    const socket = await welcomed(client, server);

    const updates = socket.sent.filter((f) => f.type === 'update');
    expect(updates).toHaveLength(1);
    const update = updates[0]!;
    if (update.type !== 'update') throw new Error('unreachable');
    expect(server.importUpdates(update.update).ok).toBe(true);
    expect(server.toJSON().root.children.map((t) => t.text)).toEqual(['Written offline']);

    socket.receive(encodeServer.ack(update.ref));
    expect(client.saveState).toBe('saved');
    client.close();
  });

  it('without pendingEdits, treats the given replica as saved, and still sends what the server lacks (R6)', async () => {
    const server = MindMap.create('Plans', { peerId: 99n });
    const client = new CollabClient({
      map: restoredWithOfflineEdit(server),
      url: () => 'wss://canopy.example/collab/m1',
      WebSocket: FakeSocket,
    });
    const socket = await welcomed(client, server);
    expect(client.saveState).toBe('saved');
    const updates = socket.sent.filter((f) => f.type === 'update');
    expect(updates).toHaveLength(1);
    socket.receive(encodeServer.ack(updates[0]!.type === 'update' ? updates[0]!.ref : -1));
    expect(client.saveState).toBe('saved');
    client.close();
  });
});

describe('CollabClient after a reconnect (docs/protocol/collab.md R6, R11)', () => {
  it("sends back another member's update that the server no longer has, though it edited nothing itself", async () => {
    const server = MindMap.create('Plans', { peerId: 99n });
    const client = new CollabClient({
      url: () => 'wss://canopy.example/collab/m1',
      WebSocket: FakeSocket,
      backoff: { initialMs: 1, maxMs: 1 },
    });
    client.connect();
    await tick();
    const first = FakeSocket.last!;
    first.open();
    first.receive(encodeServer.welcome('editor', 1, server.versionVector(), server.exportSnapshot()));
    // The server relays another editor's update, then loses it (its machine lost power before the sync).
    const lost = MindMap.fromSnapshot(server.exportSnapshot());
    if (!lost.ok) throw lost.error;
    const before = lost.value.versionVector();
    lost.value.addTopic(lost.value.toJSON().root.id, undefined, { text: 'Relayed, then lost' });
    const relayed = lost.value.exportUpdatesSince(before);
    if (!relayed.ok) throw relayed.error;
    first.receive(encodeServer.update(relayed.value));
    expect(client.saveState).toBe('saved');

    first.serverClose(1011);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = FakeSocket.last!;
    expect(second).not.toBe(first);
    second.open();
    second.receive(encodeServer.welcome('editor', 2, server.versionVector(), new Uint8Array()));
    const updates = second.sent.filter((f) => f.type === 'update');
    expect(updates).toHaveLength(1);
    const update = updates[0]!;
    if (update.type !== 'update') throw new Error('unreachable');
    expect(server.importUpdates(update.update).ok).toBe(true);
    expect(server.toJSON().root.children.map((t) => t.text)).toEqual(['Relayed, then lost']);
    client.close();
  });

  it('sends nothing when the server holds all it has', async () => {
    const server = MindMap.create('Plans', { peerId: 99n });
    const client = new CollabClient({ url: () => 'wss://canopy.example/collab/m1', WebSocket: FakeSocket });
    client.connect();
    await tick();
    const socket = FakeSocket.last!;
    socket.open();
    socket.receive(encodeServer.welcome('editor', 1, server.versionVector(), server.exportSnapshot()));
    expect(socket.sent.filter((f) => f.type === 'update')).toHaveLength(0);
    client.close();
  });
});

describe('CollabClient presence (docs/protocol/collab.md R17-R19)', () => {
  afterEach(() => vi.useRealTimers());

  const open = async (session = 1) => {
    const server = MindMap.create('Plans', { peerId: 99n });
    const client = new CollabClient({
      url: () => 'wss://canopy.example/collab/m1',
      WebSocket: FakeSocket,
      presenceRefreshMs: 1_000,
    });
    client.connect();
    await tick();
    const socket = FakeSocket.last!;
    socket.open();
    socket.receive(encodeServer.welcome('editor', session, server.versionVector(), server.exportSnapshot()));
    return { client, socket };
  };

  it("writes only its own session's key, after the welcome, and clears it with null (R17, R18)", async () => {
    const client = new CollabClient({ url: () => 'wss://canopy.example/collab/m1', WebSocket: FakeSocket });
    client.setPresence({ selection: 'early' });
    client.connect();
    await tick();
    const socket = FakeSocket.last!;
    socket.open();
    expect(socket.sent.filter((f) => f.type === 'presence')).toEqual([]);
    const server = MindMap.create('Plans', { peerId: 99n });
    socket.receive(encodeServer.welcome('editor', 5, server.versionVector(), server.exportSnapshot()));
    expect(presenceSent(socket.sent.at(-1), 5)).toEqual({ kind: 'set', value: { selection: 'early' } });
    client.setPresence({ selection: 'x' });
    expect(presenceSent(socket.sent.at(-1), 5)).toEqual({ kind: 'set', value: { selection: 'x' } });
    client.setPresence(null);
    expect(presenceSent(socket.sent.at(-1), 5)).toEqual({ kind: 'delete' });
    client.close();
  });

  it("lists the others from the room's store with the server's account stamp, and drops a leaver (R17, R19)", async () => {
    const { client, socket } = await open(1);
    const room = new FakeRoomPresence();
    const seen: number[][] = [];
    client.on('presence', (peers) => seen.push([...peers.keys()]));
    socket.receive(room.set(2, 'bob', { name: 'Bob' }));
    socket.receive(room.set(3, 'carol', { name: 'Carol' }));
    expect([...client.peers.values()].sort((a, b) => a.session - b.session)).toEqual([
      { session: 2, accountId: 'bob', state: { name: 'Bob' } },
      { session: 3, accountId: 'carol', state: { name: 'Carol' } },
    ]);
    socket.receive(room.remove(2));
    expect([...client.peers.keys()]).toEqual([3]);
    expect(seen.at(-1)).toEqual([3]);
    room.destroy();
    client.close();
  });

  it('starts each connection from an empty room: the states of a former connection do not linger', async () => {
    const { client, socket } = await open(1);
    const room = new FakeRoomPresence();
    socket.receive(room.set(2, 'bob', { name: 'Bob' }));
    expect(client.peers.size).toBe(1);
    socket.serverClose(1001);
    expect(client.peers.size).toBe(0);
    await vi.waitFor(() => expect(FakeSocket.last).not.toBe(socket));
    const again = FakeSocket.last!;
    again.open();
    const server = MindMap.create('Plans', { peerId: 99n });
    const views: number[] = [];
    client.on('presence', (peers) => views.push(peers.size));
    again.receive(encodeServer.welcome('editor', 9, server.versionVector(), new Uint8Array()));
    expect(views).toEqual([0]);
    room.destroy();
    client.close();
  });

  it('sends its state again while it stands, so that the server does not expire it (R19)', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { client, socket } = await open(4);
    client.setPresence({ selection: 'x' });
    const count = () => socket.sent.filter((f) => f.type === 'presence').length;
    const before = count();
    vi.advanceTimersByTime(3_100);
    expect(count()).toBe(before + 3);
    expect(presenceSent(socket.sent.at(-1), 4)).toEqual({ kind: 'set', value: { selection: 'x' } });
    client.setPresence(null);
    const cleared = count();
    vi.advanceTimersByTime(3_100);
    expect(count()).toBe(cleared);
    client.close();
  });
});
