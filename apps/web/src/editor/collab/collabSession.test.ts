// @vitest-environment happy-dom
import { MindMap } from '@canopy/model';
import { encodeServer } from '@canopy/sdk';
import { FakeRoomPresence, FakeSocket, presenceSent } from '@canopy/sdk/collab/testing';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../api/problem.ts';
import { CollabSession, type CollabSessionOptions } from './collabSession.ts';
import { indexedDbCopies, type LocalCopy, type LocalCopyStore } from './localCopies.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Polls (a turn of the event loop at a time) until `check` passes; the test runner's timeout bounds it. */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await tick();
}

function sessionOver(extra: Partial<CollabSessionOptions> = {}): CollabSession {
  return new CollabSession({
    mapId: 'm1',
    name: 'Ada Lovelace',
    accountId: 'ada',
    origin: 'https://canopy.example',
    ticket: async (mapId) => ({ url: `/api/v1/collab/${mapId}?ticket=t` }),
    WebSocket: FakeSocket,
    ...extra,
  });
}

/** The server's replica of the map, and a session connected to it as `role`. */
async function connected(role: 'viewer' | 'editor' = 'editor') {
  const server = MindMap.create('Plans', { peerId: 99n });
  const tickets: string[] = [];
  const session = new CollabSession({
    mapId: 'm1',
    name: 'Ada Lovelace',
    accountId: 'ada',
    origin: 'https://canopy.example',
    ticket: async (mapId) => {
      tickets.push(mapId);
      return { url: `/api/v1/collab/${mapId}?ticket=t${tickets.length}` };
    },
    WebSocket: FakeSocket,
  });
  session.connect();
  await tick();
  const socket = FakeSocket.all.at(-1)!;
  socket.open();
  socket.receive(encodeServer.welcome(role, 1, server.versionVector(), server.exportSnapshot()));
  return { server, session, socket, tickets };
}

describe('CollabSession', () => {
  afterEach(() => {
    FakeSocket.all = [];
  });

  it('opens the socket on the same host over wss with a fresh ticket, and loads the map from the welcome', async () => {
    const { session, socket, tickets } = await connected();
    expect(socket.url).toBe('wss://canopy.example/api/v1/collab/m1?ticket=t1');
    expect(tickets).toEqual(['m1']);
    expect(socket.sent[0]?.type).toBe('hello');
    const view = session.getView();
    expect(view.store?.getDocument().title).toBe('Plans');
    expect(view.indicator).toBe('saved');
    expect(view.role).toBe('editor');
    session.close();
  });

  it('says Syncing… until the server has stored an edit, then Saved', async () => {
    const { session, socket } = await connected();
    const store = session.getView().store!;
    store.addChild(store.getDocument().root.id, { text: 'Idea' });
    expect(session.getView().indicator).toBe('syncing');
    const [update] = socket.updates();
    socket.receive(encodeServer.ack(update!.type === 'update' ? update!.ref : 0));
    expect(session.getView().indicator).toBe('saved');
    session.close();
  });

  it('reports an edit the server refused (it stays local and unsaved)', async () => {
    const { session, socket } = await connected();
    const store = session.getView().store!;
    store.addChild(store.getDocument().root.id, { text: 'Refused' });
    const [update] = socket.updates();
    if (update?.type !== 'update') throw new Error('no update sent');
    socket.receive(encodeServer.refused(update.ref, { code: 'schema-violation', message: 'no' }));
    expect(session.getView().refusedEdit).toBe('schema-violation');
    expect(session.getView().indicator).toBe('syncing');
    session.close();
  });

  it('goes Offline when the browser does, keeps edits, and sends them on reconnect', async () => {
    const { server, session, socket } = await connected();
    const store = session.getView().store!;
    window.dispatchEvent(new Event('offline'));
    expect(session.getView().indicator).toBe('offline');
    store.addChild(store.getDocument().root.id, { text: 'Written offline' });
    expect(socket.updates()).toEqual([]);

    window.dispatchEvent(new Event('online'));
    await tick();
    const again = FakeSocket.all.at(-1)!;
    expect(again).not.toBe(socket);
    again.open();
    again.receive(encodeServer.welcome('editor', 2, server.versionVector(), new Uint8Array()));
    const [catchUp] = again.updates();
    if (catchUp?.type !== 'update') throw new Error('no catch-up update sent');
    expect(server.importUpdates(catchUp.update).ok).toBe(true);
    expect(server.toJSON().root.children.map((c) => c.text)).toEqual(['Written offline']);
    expect(session.getView().indicator).toBe('syncing');
    again.receive(encodeServer.ack(catchUp.ref));
    expect(session.getView().indicator).toBe('saved');
    session.close();
  });

  it("makes a viewer's store read-only, and writable when the role changes", async () => {
    const { session, socket } = await connected('viewer');
    const store = session.getView().store!;
    expect(store.isReadOnly()).toBe(true);
    expect(() => store.addChild(store.getDocument().root.id)).toThrow(/read-only/);
    socket.receive(encodeServer.role('editor'));
    expect(session.getView().role).toBe('editor');
    expect(store.isReadOnly()).toBe(false);
    session.close();
  });

  it('lists the others with their names and selections, and sends its own selection', async () => {
    const { session, socket } = await connected();
    const room = new FakeRoomPresence();
    socket.receive(room.set(7, 'bob', { v: 1, name: 'Bob', selection: 'x' }));
    expect(session.getView().collaborators).toMatchObject([{ session: 7, name: 'Bob', selection: 'x' }]);
    session.setSelection('t1');
    // Session 1 is this tab's (the welcome's): it writes that key of the room's ephemeral store.
    expect(presenceSent(socket.sent.at(-1), 1)).toEqual({
      kind: 'set',
      value: { v: 1, name: 'Ada Lovelace', selection: 't1' },
    });
    socket.receive(room.remove(7));
    expect(session.getView().collaborators).toEqual([]);
    room.destroy();
    session.close();
  });

  it('explains a refusal: the map no longer shared (4403) makes the open map read-only', async () => {
    const { session, socket } = await connected();
    socket.serverClose(4403);
    const view = session.getView();
    expect(view.refusal?.reason).toBe('forbidden');
    expect(view.refusal?.message).toMatch(/not shared with you/);
    expect(view.store?.isReadOnly()).toBe(true);
    session.close();
  });

  it('says why it is offline when the account has too many maps open (4429), and keeps trying', async () => {
    const { session, socket, tickets } = await connected();
    socket.serverClose(4429);
    expect(session.getView()).toMatchObject({ indicator: 'offline', offlineReason: 'tooManyConnections' });
    expect(session.getView().refusal).toBeUndefined();
    // It reconnects by itself (backoff); once welcomed the reason goes.
    await until(() => tickets.length === 2 && FakeSocket.all.length === 2);
    const again = FakeSocket.all.at(-1)!;
    again.open();
    again.receive(encodeServer.welcome('editor', 2, new Uint8Array(), new Uint8Array()));
    await until(() => session.getView().offlineReason === undefined);
    expect(session.getView().indicator).not.toBe('offline');
    session.close();
  });

  it('stops at once when the ticket is refused (no such map)', async () => {
    const session = new CollabSession({
      mapId: 'gone',
      name: 'Ada',
      accountId: 'ada',
      origin: 'http://localhost:8080',
      ticket: () =>
        Promise.reject(
          new ApiError({ type: 'about:blank', title: 'Not found', status: 404, code: 'map_not_found' }),
        ),
      WebSocket: FakeSocket,
    });
    session.connect();
    await tick();
    await tick();
    expect(session.getView().refusal?.reason).toBe('notFound');
    expect(FakeSocket.all).toEqual([]);
    session.close();
  });

  it('frees its map when closed; the closed store answers from its last state without reading the map', async () => {
    const free = vi.spyOn(MindMap.prototype, 'free');
    try {
      const { session } = await connected();
      const store = session.getView().store!;
      store.addChild(store.getDocument().root.id, { text: 'Idea' });
      session.close();
      expect(free).toHaveBeenCalledTimes(1);
      // The edit came after the last read: the store took it before letting go of the map.
      expect(store.getDocument().root.children.map((t) => t.text)).toEqual(['Idea']);
    } finally {
      free.mockRestore();
    }
  });

  describe("with this browser's copy of the map (offline edits survive a reload)", () => {
    /** A session with copies that edits offline and is then left (pagehide): returns the server's replica. */
    async function leftWithOfflineEdit(copies: LocalCopyStore): Promise<MindMap> {
      const server = MindMap.create('Plans', { peerId: 99n });
      const session = sessionOver({ localCopies: copies });
      session.connect();
      await tick();
      const socket = FakeSocket.all.at(-1)!;
      socket.open();
      socket.receive(encodeServer.welcome('editor', 1, server.versionVector(), server.exportSnapshot()));
      const store = session.getView().store!;
      window.dispatchEvent(new Event('offline'));
      store.addChild(store.getDocument().root.id, { text: 'Written offline' });
      window.dispatchEvent(new Event('pagehide'));
      await until(async () => (await copies.read('ada', 'm1'))?.pending === true);
      session.close();
      return server;
    }

    it('keeps a copy with the unsent edit on pagehide, per account, and a reopened map starts from it', async () => {
      const copies = indexedDbCopies(new IDBFactory());
      await leftWithOfflineEdit(copies);
      const copy = await copies.read('ada', 'm1');
      expect(copy).toMatchObject({ pending: true, role: 'editor' });
      expect(await copies.read('bob', 'm1')).toBeUndefined();

      // Before any connection: the map is there, with the edit, and editable (the stored role).
      const reopened = sessionOver({ localCopies: copies, restored: copy! });
      const view = reopened.getView();
      expect(view.store?.getDocument().root.children.map((t) => t.text)).toEqual(['Written offline']);
      expect(view.restoredUnsent).toBe(true);
      expect(view.role).toBe('editor');
      expect(view.store?.isReadOnly()).toBe(false);
      reopened.close();
    });

    it('sends the restored unsent edits on the first welcome, says so until they are saved, then marks the copy saved', async () => {
      const copies = indexedDbCopies(new IDBFactory());
      const server = await leftWithOfflineEdit(copies);
      const restored = (await copies.read('ada', 'm1'))!;
      const session = sessionOver({ localCopies: copies, restored });
      // Connecting for the first time from the copy is not "Offline".
      expect(session.getView().indicator).toBe('syncing');
      session.connect();
      await tick();
      const socket = FakeSocket.all.at(-1)!;
      socket.open();
      socket.receive(encodeServer.welcome('editor', 3, server.versionVector(), new Uint8Array()));
      const [catchUp] = socket.updates();
      if (catchUp?.type !== 'update') throw new Error('no catch-up update sent');
      expect(server.importUpdates(catchUp.update).ok).toBe(true);
      expect(server.toJSON().root.children.map((c) => c.text)).toEqual(['Written offline']);
      expect(session.getView()).toMatchObject({ indicator: 'syncing', restoredUnsent: true });
      socket.receive(encodeServer.ack(catchUp.ref));
      expect(session.getView()).toMatchObject({ indicator: 'saved', restoredUnsent: false });
      await until(async () => (await copies.read('ada', 'm1'))?.pending === false);
      session.close();
    });

    it('says Offline when the first connection from the copy fails', async () => {
      const copies = indexedDbCopies(new IDBFactory());
      await leftWithOfflineEdit(copies);
      const restored = (await copies.read('ada', 'm1'))!;
      const session = sessionOver({
        restored,
        ticket: () => Promise.reject(new TypeError('Failed to fetch')),
      });
      session.connect();
      await until(() => session.getView().indicator === 'offline');
      expect(session.getView().restoredUnsent).toBe(true);
      session.close();
    });

    it('forgets the copy of a map that no longer exists (4404)', async () => {
      const copies = indexedDbCopies(new IDBFactory());
      await leftWithOfflineEdit(copies);
      const restored = (await copies.read('ada', 'm1'))!;
      const session = sessionOver({ localCopies: copies, restored });
      session.connect();
      await tick();
      FakeSocket.all.at(-1)!.serverClose(4404);
      expect(session.getView().refusal?.reason).toBe('notFound');
      await until(async () => (await copies.read('ada', 'm1')) === undefined);
      window.dispatchEvent(new Event('pagehide'));
      session.close();
      await tick();
      expect(await copies.read('ada', 'm1')).toBeUndefined();
    });

    it('opens a copy that does not load (damaged) from the server instead', async () => {
      const restored: LocalCopy = {
        snapshot: new Uint8Array([1, 2, 3]),
        pending: true,
        role: 'editor',
        savedAt: 1,
        writer: 'w',
      };
      const session = sessionOver({ restored });
      expect(session.getView().store).toBeUndefined();
      session.close();
    });
  });
});
