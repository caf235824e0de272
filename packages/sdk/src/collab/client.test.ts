import { MindMap } from '@canopy/model';
import { describe, expect, it } from 'vitest';
import { CollabClient } from './client.ts';
import { encodeServer } from './protocol.ts';
import { FakeSocket } from './testing.ts';

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

  it('without pendingEdits, treats the given replica as saved and sends nothing on welcome', async () => {
    const server = MindMap.create('Plans', { peerId: 99n });
    const client = new CollabClient({
      map: restoredWithOfflineEdit(server),
      url: () => 'wss://canopy.example/collab/m1',
      WebSocket: FakeSocket,
    });
    const socket = await welcomed(client, server);
    expect(client.saveState).toBe('saved');
    expect(socket.sent.filter((f) => f.type === 'update')).toHaveLength(0);
    client.close();
  });
});
