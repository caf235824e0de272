/**
 * Co-editing with real clients over real sockets (docs/protocol/collab.md; "R<n>" cites its rules).
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { MindMap, PresenceStore } from '@canopy/model';
import { evilField } from '@canopy/model/testing';
import { CloseCode, decodeServer, encodeClient, type CollabClient } from '@canopy/sdk';
import { createTestDatabase, dialectsUnderTest, type TestDatabase } from '../../platform/db/testing.ts';
// eslint-disable-next-line no-restricted-imports -- the test app of issue 7's two modules, shared by their tests
import { createModuleTestApp, type ModuleTestApp } from '../maps/test-app.ts';
import { testAuthorization, testIdentity } from '../maps/index.ts';
import { COMPACT_JOB, type WriteBackEvent } from './index.ts';
import {
  eventually,
  mulberry32,
  onlineAll,
  randomEdit,
  startClient,
  ticketUrl,
  type Who,
} from './test-clients.ts';

const alice: Who = { accountId: 'alice', tenantId: 't1' };
const bob: Who = { accountId: 'bob', tenantId: 't1' };
const carol: Who = { accountId: 'carol', tenantId: 't1' };
const mallory: Who = { accountId: 'mallory', tenantId: 't2' };

/** Opens a raw socket and returns how it was closed (code), after sending `frames` once it opens. */
function rawClose(url: string, frames: Uint8Array[] = [], headers: Record<string, string> = {}) {
  return new Promise<{ code: number; messages: ReturnType<typeof decodeServer>[] }>((resolve) => {
    const ws = new WebSocket(url, { headers });
    const messages: ReturnType<typeof decodeServer>[] = [];
    ws.on('open', () => frames.forEach((f) => ws.send(f)));
    ws.on('message', (d: Buffer) => messages.push(decodeServer(new Uint8Array(d))));
    ws.on('close', (code) => resolve({ code, messages }));
  });
}

for (const dialect of dialectsUnderTest()) {
  describe(`co-editing over WebSocket [${dialect}]`, () => {
    let t: ModuleTestApp;
    let db: TestDatabase;
    const writeBacks: WriteBackEvent[] = [];
    const clients: CollabClient[] = [];

    beforeAll(async () => {
      db = await createTestDatabase(dialect);
      t = await createModuleTestApp({
        databaseUrl: db.url,
        listen: true,
        maps: { identity: testIdentity },
        collab: { writeBack: async (e) => void writeBacks.push(e), compactAfter: 1_000_000 },
      });
    });
    afterAll(async () => {
      for (const c of clients) c.close();
      await t.close();
      await db.drop();
    });

    const api = (method: 'GET' | 'POST' | 'DELETE', url: string, who: Who, payload?: object) =>
      t.app.inject({
        method,
        url: `/api/v1${url}`,
        headers: { authorization: testAuthorization(who.accountId, who.tenantId) },
        ...(payload ? { payload } : {}),
      });
    const newMap = async (title: string) =>
      (await api('POST', '/maps', alice, { title })).json<{ id: string }>().id;
    const share = (mapId: string, who: Who, role: 'viewer' | 'editor') =>
      api('POST', `/maps/${mapId}/shares`, alice, { email: `${who.accountId}@${who.tenantId}`, role });
    const client = (who: Who, mapId: string) => {
      const c = startClient(t.app, t.url, who, mapId);
      clients.push(c);
      return c;
    };
    const serverDoc = async (mapId: string) =>
      (await api('GET', `/maps/${mapId}/document`, alice)).json<unknown>();
    /** A new map shared with bob as editor, and alice's and bob's clients on it, online. */
    const aliceAndBob = async (title: string) => {
      const mapId = await newMap(title);
      await share(mapId, bob, 'editor');
      const a = client(alice, mapId);
      const b = client(bob, mapId);
      const [ma, mb] = await Promise.all([a.whenLoaded(), b.whenLoaded()]);
      await onlineAll([a, b]);
      return { mapId, a, b, ma, mb };
    };
    /** A new map that alice's client has given `topics` saved topics, and the maps module's content store. */
    const aliceAdded = async (title: string, topics: number) => {
      const mapId = await newMap(title);
      const a = client(alice, mapId);
      const ma = await a.whenLoaded();
      await onlineAll([a]);
      for (let i = 0; i < topics; i++) ma.addTopic(ma.centralTopicId(), undefined, { text: `a${i}` });
      await a.whenSaved();
      const { mapsModule } = await import('../maps/index.ts');
      return { mapId, ma, content: mapsModule(t.deps).content };
    };

    it('N clients making random concurrent edits (with moves) converge to the server document (R5, R10, R11)', async () => {
      const mapId = await newMap('Converge');
      const people = [alice, bob, carol];
      await share(mapId, bob, 'editor');
      await share(mapId, carol, 'editor');
      const group = Array.from({ length: 6 }, (_, i) => client(people[i % 3]!, mapId));
      const maps = await Promise.all(group.map((c) => c.whenLoaded()));
      await onlineAll(group);
      const rnd = mulberry32(7);
      for (let round = 0; round < 25; round++) {
        for (let i = 0; i < maps.length; i++) randomEdit(maps[i]!, rnd, `r${round}c${i}`);
        if (round % 5 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      await Promise.all(group.map((c) => c.whenSaved()));
      const expected = await serverDoc(mapId);
      await eventually(() => maps.every((m) => JSON.stringify(m.toJSON()) === JSON.stringify(expected)));
      expect(maps[0]!.topicCount()).toBeGreaterThan(10);
      for (const c of group) expect(c.saveState).toBe('saved');
    });

    it('relays updates of every WebSocket length class intact (7-bit, 16-bit and 64-bit payload lengths)', async () => {
      const { a, ma, mb } = await aliceAndBob('Frame sizes');
      const rnd = mulberry32(3);
      const noise = (n: number) =>
        Array.from({ length: n }, () => String.fromCharCode(97 + rnd() * 26)).join('');
      for (const length of [1, 1_000, 100_000]) {
        const id = ma.addTopic(ma.centralTopicId(), undefined, { text: `notes of ${length}` });
        ma.setNotes(id, noise(length));
      }
      await a.whenSaved();
      await eventually(() => JSON.stringify(mb.toJSON()) === JSON.stringify(ma.toJSON()));
      expect(mb.toJSON().root.children.map((c) => c.notesHtml?.length)).toEqual([1, 1_000, 100_000]);
    });

    it('a client that edits offline and reconnects converges, and its edits are stored once (R6, R13)', async () => {
      const { mapId, a, b, ma, mb } = await aliceAndBob('Offline');
      b.disconnect(false);
      const root = mb.centralTopicId();
      for (let i = 0; i < 5; i++) mb.addTopic(root, undefined, { text: `offline ${i}` });
      ma.addTopic(ma.centralTopicId(), undefined, { text: 'online meanwhile' });
      await a.whenSaved();
      expect(b.saveState).toBe('unsynced');
      b.connect();
      await b.whenSaved();
      const expected = (await serverDoc(mapId)) as { root: { children: { text: string }[] } };
      const texts = expected.root.children.map((c) => c.text).sort();
      expect(texts).toEqual([
        'offline 0',
        'offline 1',
        'offline 2',
        'offline 3',
        'offline 4',
        'online meanwhile',
      ]);
      await eventually(
        () =>
          JSON.stringify(ma.toJSON()) === JSON.stringify(expected) &&
          JSON.stringify(mb.toJSON()) === JSON.stringify(expected),
      );
    });

    it.runIf(dialect === 'sqlite')(
      'relays an update to editors once committed; acks it, and tells viewers, once the WAL is synced (R10, R11)',
      async () => {
        const mapId = await newMap('Relay');
        await share(mapId, bob, 'editor');
        await share(mapId, carol, 'viewer');
        const [a, b, c] = [client(alice, mapId), client(bob, mapId), client(carol, mapId)];
        const [ma, mb, mc] = await Promise.all([a.whenLoaded(), b.whenLoaded(), c.whenLoaded()]);
        await onlineAll([a, b, c]);
        // The disk is slow: the WAL sync of the next commit waits until the test lets it go.
        const sqlite = t.platform.database.sqlite!;
        const realSync = sqlite.syncWal.bind(sqlite);
        let release = () => {};
        const slowDisk = new Promise<void>((resolve) => (release = resolve));
        const spy = vi.spyOn(sqlite, 'syncWal').mockImplementation(async () => {
          await slowDisk;
          await realSync();
        });
        const texts = (m: typeof ma) =>
          ((m.toJSON() as { root: { children?: { text: string }[] } }).root.children ?? []).map(
            (t) => t.text,
          );
        try {
          ma.addTopic(ma.centralTopicId(), undefined, { text: 'relayed' });
          await eventually(() => texts(mb).includes('relayed'));
          await new Promise((resolve) => setTimeout(resolve, 100));
          expect(spy).toHaveBeenCalled();
          expect(a.saveState).toBe('unsynced');
          expect(texts(mc)).toEqual([]);
          release();
          await a.whenSaved();
          await eventually(() => texts(mc).includes('relayed'));
        } finally {
          release();
          spy.mockRestore();
        }
      },
    );

    it.runIf(dialect === 'sqlite')(
      'an editor sends back an update the log lost after relaying it, and the room converges on it (R6, R11, R14)',
      async () => {
        const mapId = await newMap('Lost');
        await share(mapId, bob, 'editor');
        const [a, b] = [client(alice, mapId), client(bob, mapId)];
        const [ma, mb] = await Promise.all([a.whenLoaded(), b.whenLoaded()]);
        await onlineAll([a, b]);
        const texts = (doc: unknown) =>
          ((doc as { root: { children?: { text: string }[] } }).root.children ?? []).map((t) => t.text);
        // The next commit's WAL sync fails, as when the machine loses power before the disk has it.
        const sqlite = t.platform.database.sqlite!;
        let powerLoss = (_err: Error) => {};
        const sync = new Promise<void>((_resolve, reject) => (powerLoss = reject));
        const spy = vi.spyOn(sqlite, 'syncWal').mockImplementationOnce(() => sync);
        try {
          ma.addTopic(ma.centralTopicId(), undefined, { text: 'relayed, then lost' });
          await eventually(() => texts(mb.toJSON()).includes('relayed, then lost'));
          // Its author is gone for good, unacknowledged; and the row never reached the disk (the test takes it
          // out of the log, as a restart after the power loss would find it).
          expect(a.saveState).toBe('unsynced');
          a.close();
          await sql`delete from map_updates where map_id = ${mapId}`.execute(t.platform.database.db);
          await sql`update maps set head_seq = snapshot_seq where id = ${mapId}`.execute(
            t.platform.database.db,
          );
          powerLoss(new Error('EIO: i/o error, fdatasync'));
          // The room closes (R14); bob, who never edited, reconnects and sends it back (R6).
          await eventually(async () => texts(await serverDoc(mapId)).includes('relayed, then lost'));
          await b.whenSaved();
          expect(texts(await serverDoc(mapId))).toEqual(['relayed, then lost']);
        } finally {
          powerLoss(new Error('test over'));
          spy.mockRestore();
        }
      },
    );

    it("refuses a viewer's write and nobody else sees it (R8)", async () => {
      const mapId = await newMap('Viewer');
      await share(mapId, bob, 'viewer');
      const a = client(alice, mapId);
      const b = client(bob, mapId);
      const [ma, mb] = await Promise.all([a.whenLoaded(), b.whenLoaded()]);
      await onlineAll([a, b]);
      expect(b.role).toBe('viewer');
      // The SDK does not send a viewer's edits; a raw client that tries is refused.
      const url = await ticketUrl(t.app, t.url, bob, mapId);
      const update = (() => {
        let bytes: Uint8Array | undefined;
        const off = mb.onLocalUpdate((u) => (bytes = u));
        mb.addTopic(mb.centralTopicId(), undefined, { text: 'viewer was here' });
        off();
        return bytes!;
      })();
      const result = await new Promise<ReturnType<typeof decodeServer>[]>((resolve) => {
        const ws = new WebSocket(url);
        const got: ReturnType<typeof decodeServer>[] = [];
        ws.on('open', () => ws.send(encodeClient.hello(new Uint8Array())));
        ws.on('message', (d: Buffer) => {
          const f = decodeServer(new Uint8Array(d));
          got.push(f);
          if (f.type === 'welcome') ws.send(encodeClient.update(7, update));
          if (f.type === 'refused') {
            ws.close();
            resolve(got);
          }
        });
      });
      expect(result.at(-1)).toMatchObject({ type: 'refused', ref: 7, problem: { code: 'forbidden' } });
      expect(b.saveState).toBe('unsynced');
      ma.addTopic(ma.centralTopicId(), undefined, { text: 'owner edit' });
      await a.whenSaved();
      const doc = (await serverDoc(mapId)) as { root: { children: { text: string }[] } };
      expect(doc.root.children.map((c) => c.text)).toEqual(['owner edit']);
    });

    it('stops a demoted editor from writing at once (R15)', async () => {
      const mapId = await newMap('Demote');
      await share(mapId, bob, 'editor');
      const b = client(bob, mapId);
      const mb = await b.whenLoaded();
      await onlineAll([b]);
      mb.addTopic(mb.centralTopicId(), undefined, { text: 'as editor' });
      await b.whenSaved();
      // A raw client that joined as editor and ignores role messages.
      const url = await ticketUrl(t.app, t.url, bob, mapId);
      const ws = new WebSocket(url);
      const frames: ReturnType<typeof decodeServer>[] = [];
      ws.on('message', (d: Buffer) => frames.push(decodeServer(new Uint8Array(d))));
      await new Promise((r) => ws.on('open', r));
      ws.send(encodeClient.hello(new Uint8Array()));
      await eventually(() => frames.some((f) => f.type === 'welcome'));
      expect(frames[0]).toMatchObject({ type: 'welcome', role: 'editor' });
      await share(mapId, bob, 'viewer');
      await eventually(() => b.role === 'viewer');
      let update: Uint8Array | undefined;
      const off = mb.onLocalUpdate((u) => (update = u));
      mb.addTopic(mb.centralTopicId(), undefined, { text: 'after demotion' });
      off();
      ws.send(encodeClient.update(9, update!));
      await eventually(() => frames.some((f) => f.type === 'refused'));
      expect(frames.find((f) => f.type === 'refused')).toMatchObject({
        ref: 9,
        problem: { code: 'forbidden' },
      });
      ws.close();
      const doc = (await serverDoc(mapId)) as { root: { children: { text: string }[] } };
      expect(doc.root.children.map((c) => c.text)).toEqual(['as editor']);
      expect(b.saveState).toBe('unsynced');
    });

    it("does not let another tenant's user join (4404), nor anyone without a ticket (4401) (R1, R3)", async () => {
      const mapId = await newMap('Walls');
      const base = `${t.url.replace(/^http/, 'ws')}/api/v1/collab/${mapId}`;
      expect((await api('POST', `/maps/${mapId}/collab-ticket`, mallory)).statusCode).toBe(404);
      const origin = new URL(t.config.publicUrl).origin;
      const cross = await rawClose(base, [], { cookie: 'test_session=mallory%40t2', origin });
      expect(cross.code).toBe(CloseCode.notFound);
      expect((await rawClose(base)).code).toBe(CloseCode.unauthenticated);
      expect((await rawClose(`${base}?ticket=${'x'.repeat(43)}`)).code).toBe(CloseCode.unauthenticated);
      // Same tenant, not shared: 4403; a cookie from a foreign page: 4403.
      expect((await rawClose(base, [], { cookie: 'test_session=carol%40t1', origin })).code).toBe(
        CloseCode.forbidden,
      );
      expect(
        (await rawClose(base, [], { cookie: 'test_session=alice%40t1', origin: 'https://evil.example' }))
          .code,
      ).toBe(CloseCode.forbidden);
      // A ticket works once.
      const url = await ticketUrl(t.app, t.url, alice, mapId);
      const first = await new Promise<number>((resolve) => {
        const ws = new WebSocket(url);
        ws.on('open', () => ws.send(encodeClient.hello(new Uint8Array())));
        ws.on('message', () => ws.close(1000));
        ws.on('close', (code) => resolve(code));
      });
      expect(first).toBe(1000);
      expect((await rawClose(url, [encodeClient.hello(new Uint8Array())])).code).toBe(
        CloseCode.unauthenticated,
      );
    });

    it('closes with 4409 on an unsupported protocol version (R4)', async () => {
      const mapId = await newMap('Version');
      const url = await ticketUrl(t.app, t.url, alice, mapId);
      const closed = await rawClose(url, [encodeClient.hello(new Uint8Array(), 99)]);
      expect(closed.code).toBe(CloseCode.unsupportedVersion);
      expect(closed.messages[0]).toMatchObject({ type: 'error', problem: { code: 'unsupported_version' } });
    });

    it('refuses a malformed update and tells the client (R9)', async () => {
      const mapId = await newMap('Garbage');
      const url = await ticketUrl(t.app, t.url, alice, mapId);
      const got = await new Promise<ReturnType<typeof decodeServer>[]>((resolve) => {
        const ws = new WebSocket(url);
        const frames: ReturnType<typeof decodeServer>[] = [];
        ws.on('open', () => ws.send(encodeClient.hello(new Uint8Array())));
        ws.on('message', (d: Buffer) => {
          const f = decodeServer(new Uint8Array(d));
          frames.push(f);
          if (f.type === 'welcome') ws.send(encodeClient.update(1, new Uint8Array([1, 2, 3, 4, 5])));
          if (f.type === 'refused') {
            ws.close();
            resolve(frames);
          }
        });
      });
      expect(got.at(-1)).toMatchObject({ type: 'refused', ref: 1, problem: { code: 'malformed-update' } });
    });

    it('answers damaged frames of every kind with a refusal or a close for bad input, and the room goes on (R7, R9, R18)', async () => {
      const { mapId, a, b, ma, mb } = await aliceAndBob('Damaged frames');
      const topic = ma.addTopic(ma.centralTopicId(), undefined, { text: 'before' });
      await a.whenSaved();
      // Honest bytes to damage: a version vector, an update that builds on the map, a presence update.
      const copy = MindMap.fromSnapshot(ma.exportSnapshot());
      if (!copy.ok) throw copy.error;
      const vector = copy.value.versionVector();
      copy.value.addTopic(topic, undefined, { text: 'from a damaged frame' });
      const update = copy.value.exportUpdatesSince(vector);
      if (!update.ok) throw update.error;
      const presence = new PresenceStore(60_000);
      presence.set('anyone', { selection: [topic] });
      const honestPresence = presence.encode('anyone');
      presence.destroy();

      const rnd = mulberry32(dialect.length);
      const damage = (bytes: Uint8Array) => {
        const out = Uint8Array.from(bytes);
        const kind = rnd();
        if (kind < 0.3 || out.length === 0) return out.subarray(0, Math.floor(rnd() * out.length));
        for (let k = 0; k < 1 + Math.floor(rnd() * 3); k++)
          out[Math.floor(rnd() * out.length)] = Math.floor(rnd() * 256);
        return out;
      };
      const noise = () => Uint8Array.from({ length: Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256));
      /** One socket's frames: a hello (perhaps damaged), then damaged frames of each kind. */
      const framesFor = (i: number): (Uint8Array | string)[] => {
        const hello = i % 4 === 0 ? encodeClient.hello(damage(vector)) : encodeClient.hello(new Uint8Array());
        const next = [
          () => encodeClient.update(i, damage(update.value)),
          () => encodeClient.presence(damage(honestPresence)),
          () => damage(encodeClient.update(i, update.value)),
          () => noise(),
          () => 'text',
        ];
        return [
          hello,
          ...Array.from({ length: 1 + (i % 3) }, () => next[Math.floor(rnd() * next.length)]!()),
        ];
      };
      /** Sends the frames once welcomed (the hello at once) and resolves with the close code, or 'open'. */
      const run = async (frames: (Uint8Array | string)[]) => {
        const ws = new WebSocket(await ticketUrl(t.app, t.url, bob, mapId));
        return new Promise<number | 'open'>((resolve) => {
          const quiet = setTimeout(() => {
            resolve('open');
            ws.close();
          }, 1_000);
          ws.on('open', () => ws.send(frames[0]!));
          ws.on('message', (d: Buffer) => {
            if (decodeServer(new Uint8Array(d)).type === 'welcome')
              for (const f of frames.slice(1)) ws.send(f);
          });
          ws.on('close', (code) => {
            clearTimeout(quiet);
            resolve(code);
          });
        });
      };
      const outcomes: (number | 'open')[] = [];
      for (let batch = 0; batch < 5; batch++)
        outcomes.push(
          ...(await Promise.all(Array.from({ length: 8 }, (_, i) => run(framesFor(batch * 8 + i))))),
        );
      // Bad input closes with 1008 (1002/1007 for what ws itself refuses), or is refused and the socket stays;
      // never a server error.
      for (const outcome of outcomes) expect([1002, 1007, 1008, 'open']).toContain(outcome);
      expect(outcomes.filter((o) => o === 1008).length).toBeGreaterThan(10);

      // The room goes on: both editors keep editing and end as the server's map.
      for (let i = 0; i < 10; i++) ma.editText(topic, 6 + i, 0, 'a');
      mb.addTopic(mb.centralTopicId(), undefined, { text: 'after' });
      await Promise.all([a.whenSaved(), b.whenSaved()]);
      const expected = JSON.stringify(await serverDoc(mapId));
      await eventually(() => [ma, mb].every((m) => JSON.stringify(m.toJSON()) === expected));
      expect(expected).toContain('after');
    });

    /** Sends `update` from a raw editor's socket and resolves with the frame that answers it. */
    const rawUpdate = async (who: Who, mapId: string, update: Uint8Array) => {
      const url = await ticketUrl(t.app, t.url, who, mapId);
      return new Promise<ReturnType<typeof decodeServer>>((resolve) => {
        const ws = new WebSocket(url);
        ws.on('open', () => ws.send(encodeClient.hello(new Uint8Array())));
        ws.on('message', (d: Buffer) => {
          const f = decodeServer(new Uint8Array(d));
          if (f.type === 'welcome') ws.send(encodeClient.update(3, update));
          if ((f.type === 'refused' || f.type === 'ack') && f.ref === 3) {
            ws.close();
            resolve(f);
          }
        });
      });
    };
    /** Topics and typing from `a`, a refused update from a raw socket between them; all end where they should. */
    const refusedAmidEdits = async (title: string) => {
      const { mapId, a, b, ma, mb } = await aliceAndBob(title);
      const topic = ma.addTopic(ma.centralTopicId(), undefined, { text: 'typed' });
      for (let i = 0; i < 30; i++) ma.editText(topic, 5 + i, 0, 'k');
      await a.whenSaved();
      const refused = await rawUpdate(bob, mapId, evilField(ma));
      expect(refused).toMatchObject({ type: 'refused', ref: 3, problem: { code: 'schema-violation' } });
      // The room goes on from the map without it: a topic, typing into it, a move.
      const child = ma.addTopic(topic, undefined, { text: 'child' });
      for (let i = 0; i < 10; i++) ma.editText(child, 5 + i, 0, 'c');
      ma.moveTopic(child, ma.centralTopicId(), 0);
      await a.whenSaved();
      const expected = await serverDoc(mapId);
      expect(JSON.stringify(expected)).toBe(JSON.stringify(ma.toJSON()));
      await eventually(() => JSON.stringify(mb.toJSON()) === JSON.stringify(expected));
      expect(JSON.stringify(expected)).not.toContain('evil');
      await b.whenSaved();
      return { mapId, ma, expected };
    };

    it('refuses a schema-breaking update amid edits: it reaches nobody and the room goes on (R9, R22)', async () => {
      const { mapId, ma } = await refusedAmidEdits('Refused amid edits');
      // The mirror's state (compaction takes it) is the map without the refused update.
      const { mapsModule } = await import('../maps/index.ts');
      const { content } = mapsModule(t.deps);
      const folded = vi.spyOn(content, 'compactTo');
      await t.deps.platform.jobs.enqueue(COMPACT_JOB, { tenantId: 't1', mapId });
      await t.deps.platform.jobs.drain();
      expect(folded).toHaveBeenCalledTimes(1);
      folded.mockRestore();
      await share(mapId, carol, 'viewer');
      const c = client(carol, mapId);
      expect(JSON.stringify((await c.whenLoaded()).toJSON())).toBe(JSON.stringify(ma.toJSON()));
    });

    it('relays presence and tells the others when a member leaves (R17)', async () => {
      const mapId = await newMap('Presence');
      await share(mapId, bob, 'viewer');
      const a = client(alice, mapId);
      const b = client(bob, mapId);
      await Promise.all([a.whenLoaded(), b.whenLoaded()]);
      await onlineAll([a, b]);
      a.setPresence({ selection: ['x'] });
      await eventually(() => [...b.peers.values()].some((p) => p.accountId === 'alice'));
      expect([...b.peers.values()][0]?.state).toEqual({ selection: ['x'] });
      a.close();
      await eventually(() => b.peers.size === 0);
    });

    it('calls the write-back hook with a consistent snapshot when the last editor leaves (R40)', async () => {
      const mapId = await newMap('Write back');
      const a = client(alice, mapId);
      const ma = await a.whenLoaded();
      await onlineAll([a]);
      ma.addTopic(ma.centralTopicId(), undefined, { text: 'keep me' });
      await a.whenSaved();
      a.close();
      await eventually(() => writeBacks.some((e) => e.mapId === mapId));
      const event = writeBacks.find((e) => e.mapId === mapId)!;
      expect(event.reason).toBe('last-editor-left');
      expect(event.document.root.children.map((c) => c.text)).toEqual(['keep me']);
      expect(event.seq).toBe(1);
    });

    it("checks its rooms' heads together, whatever their tenants, and reads the log only for a room behind its map (R21)", async () => {
      const { mapId, ma, content } = await aliceAdded('Checked with others', 2);
      const { mapId: other } = await aliceAdded('Checked too', 1);
      // A room of another tenant, one edit ahead of its snapshot.
      const theirs = (await api('POST', '/maps', mallory, { title: 'Elsewhere' })).json<{ id: string }>().id;
      const m = client(mallory, theirs);
      const mm = await m.whenLoaded();
      await onlineAll([m]);
      mm.addTopic(mm.centralTopicId(), undefined, { text: 'theirs' });
      await m.whenSaved();
      const { collabModule } = await import('./index.ts');
      const rooms = collabModule(t.deps)!.rooms;
      const heads = vi.spyOn(content, 'heads');
      const reads = vi.spyOn(content, 'readAfter');
      await rooms.checkNow();
      // Every open room in one read of the heads, both tenants', and no room's log read: none is behind.
      expect(heads).toHaveBeenCalledTimes(1);
      const asked = heads.mock.calls[0]![0].map((r) => `${r.tenantId}/${r.mapId}`);
      expect(asked).toEqual(expect.arrayContaining([`t1/${mapId}`, `t1/${other}`, `t2/${theirs}`]));
      const read = (await heads.mock.results[0]!.value) as Map<string, Map<string, number>>;
      expect(read.get('t1')?.get(mapId)).toBe(2);
      expect(read.get('t2')?.get(theirs)).toBe(1);
      expect(reads).not.toHaveBeenCalled();

      // Appended behind the rooms' backs (as by another node whose ring was lost).
      const copy = MindMap.fromSnapshot(ma.exportSnapshot());
      if (!copy.ok) throw copy.error;
      const before = copy.value.versionVector();
      copy.value.addTopic(copy.value.centralTopicId(), undefined, { text: 'from elsewhere' });
      const update = copy.value.exportUpdatesSince(before);
      if (!update.ok) throw update.error;
      expect(await content.append('t1', mapId, [{ accountId: 'alice', data: update.value }])).toMatchObject({
        kind: 'appended',
      });
      await rooms.checkNow();
      expect(heads).toHaveBeenCalledTimes(2);
      expect(reads.mock.calls.map((call) => call[1])).toEqual([mapId]);
      await eventually(() => ma.toJSON().root.children.some((c) => c.text === 'from elsewhere'));
      for (const spy of [heads, reads]) spy.mockRestore();
      // A map asked for under the wrong tenant has no head.
      expect((await content.heads([{ tenantId: 't2', mapId }])).size).toBe(0);
    });

    it('compacts the log into the snapshot; a client offline across the compaction still syncs (R22)', async () => {
      const { mapId, a, b, ma, mb } = await aliceAndBob('Compact');
      b.disconnect(false);
      for (let i = 0; i < 20; i++) ma.addTopic(ma.centralTopicId(), undefined, { text: `a${i}` });
      mb.addTopic(mb.centralTopicId(), undefined, { text: 'b offline' });
      await a.whenSaved();
      const { mapsModule } = await import('../maps/index.ts');
      const folded = await mapsModule(t.deps).content.compact('t1', mapId);
      expect(folded?.folded).toBe(20);
      b.connect();
      await b.whenSaved();
      const expected = await serverDoc(mapId);
      await eventually(
        () =>
          JSON.stringify(ma.toJSON()) === JSON.stringify(expected) &&
          JSON.stringify(mb.toJSON()) === JSON.stringify(expected),
      );
      expect((expected as { root: { children: unknown[] } }).root.children).toHaveLength(21);
      // And a brand-new client loads from the compacted snapshot.
      const c = client(alice, mapId);
      const mc = await c.whenLoaded();
      expect(JSON.stringify(mc.toJSON())).toBe(JSON.stringify(expected));
    });

    it("folds an open room's durable replica when compacting, without replaying the log (R22)", async () => {
      const { mapId, ma, content } = await aliceAdded('Compact from the room', 10);
      const replayed = vi.spyOn(content, 'compact');
      await t.deps.platform.jobs.enqueue(COMPACT_JOB, { tenantId: 't1', mapId });
      await t.deps.platform.jobs.drain();
      expect(replayed).not.toHaveBeenCalled();
      replayed.mockRestore();
      const tail = await content.readAfter('t1', mapId, -1);
      expect(tail?.entries).toEqual([]);
      const c = client(alice, mapId);
      const mc = await c.whenLoaded();
      expect(JSON.stringify(mc.toJSON())).toBe(JSON.stringify(ma.toJSON()));
    });

    it("takes an open room's snapshot for compaction from its mirror thread, not from the replica (R22)", async () => {
      const { mapId, ma, content } = await aliceAdded('Compact from the mirror', 10);
      const { collabModule } = await import('./index.ts');
      const room = (await collabModule(t.deps)?.rooms.existing('t1', mapId))!;
      const exported = vi.spyOn(room.replica, 'exportSnapshot');
      const folded = vi.spyOn(content, 'compactTo');
      await t.deps.platform.jobs.enqueue(COMPACT_JOB, { tenantId: 't1', mapId });
      await t.deps.platform.jobs.drain();
      expect(exported).not.toHaveBeenCalled();
      expect(folded).toHaveBeenCalledTimes(1);
      expect(folded.mock.calls[0]?.[2].seq).toBe(10);
      for (const spy of [exported, folded]) spy.mockRestore();
      expect((await content.readAfter('t1', mapId, -1))?.entries).toEqual([]);
      const c = client(alice, mapId);
      expect(JSON.stringify((await c.whenLoaded()).toJSON())).toBe(JSON.stringify(ma.toJSON()));
    });

    it('compacts from the room after its catch-up from SQL, instead of replaying the log (R21, R22)', async () => {
      const { mapId, ma, content } = await aliceAdded('Compact while catching up', 5);
      const { collabModule } = await import('./index.ts');
      const room = (await collabModule(t.deps)?.rooms.existing('t1', mapId))!;
      // The periodic check (R21) is reading SQL when the compaction starts.
      let release = () => {};
      const gate = new Promise<void>((resolve) => (release = resolve));
      const readAfter = content.readAfter.bind(content);
      const slowRead = vi.spyOn(content, 'readAfter').mockImplementation(async (...args) => {
        await gate;
        return readAfter(...args);
      });
      room.catchUp();
      const replayed = vi.spyOn(content, 'compact');
      const folded = vi.spyOn(content, 'compactTo');
      await t.deps.platform.jobs.enqueue(COMPACT_JOB, { tenantId: 't1', mapId });
      const draining = t.deps.platform.jobs.drain();
      await new Promise((r) => setTimeout(r, 20));
      release();
      await draining;
      expect(replayed).not.toHaveBeenCalled();
      expect(folded).toHaveBeenCalledTimes(1);
      for (const spy of [slowRead, replayed, folded]) spy.mockRestore();
      expect((await content.readAfter('t1', mapId, -1))?.entries).toEqual([]);
      const c = client(alice, mapId);
      expect(JSON.stringify((await c.whenLoaded()).toJSON())).toBe(JSON.stringify(ma.toJSON()));
    });

    it('compacts a room that never falls idle from the state of one of its commits, losing no acked edit (R22)', async () => {
      const mapId = await newMap('Compact a busy room');
      await share(mapId, bob, 'editor');
      await share(mapId, carol, 'editor');
      const a = client(alice, mapId);
      const c = client(carol, mapId);
      const b = client(bob, mapId);
      const [ma, mc, mb] = await Promise.all([a.whenLoaded(), c.whenLoaded(), b.whenLoaded()]);
      await onlineAll([a, c, b]);
      b.disconnect(false);
      mb.addTopic(mb.centralTopicId(), undefined, { text: 'b offline' });
      const { mapsModule } = await import('../maps/index.ts');
      const { collabModule } = await import('./index.ts');
      const content = mapsModule(t.deps).content;
      const room = (await collabModule(t.deps)?.rooms.existing('t1', mapId))!;
      const arrived = vi.spyOn(room, 'write');
      // Each commit waits until a writer's next edit has reached the room and been admitted: when a commit ends,
      // the next one is always waiting, so the room is never idle until the writers stop (after the compaction,
      // or after 300 edits).
      let compacted = false;
      let sent = 0;
      const append = content.append.bind(content);
      const busyAppend = vi.spyOn(content, 'append').mockImplementation(async (...args) => {
        if (!compacted && sent < 300) {
          const before = arrived.mock.calls.length;
          const m = sent % 2 === 0 ? ma : mc;
          m.addTopic(m.centralTopicId(), undefined, { text: `e${sent++}` });
          await eventually(() => arrived.mock.calls.length > before, 1);
          await new Promise((r) => setImmediate(r));
        }
        return append(...args);
      });
      const replayed = vi.spyOn(content, 'compact');
      const folded = vi.spyOn(content, 'compactTo');
      ma.addTopic(ma.centralTopicId(), undefined, { text: 'first' });
      sent++;
      await eventually(() => arrived.mock.calls.length > 0);
      await t.deps.platform.jobs.enqueue(COMPACT_JOB, { tenantId: 't1', mapId });
      await t.deps.platform.jobs.drain();
      compacted = true;
      // The compaction completed while the room was still busy (it did not wait for it to fall idle).
      expect(sent).toBeLessThan(300);
      expect(replayed).not.toHaveBeenCalled();
      expect(folded).toHaveBeenCalledTimes(1);
      expect((await folded.mock.results[0]!.value)?.folded).toBeGreaterThan(0);
      for (const spy of [busyAppend, replayed, folded]) spy.mockRestore();
      await Promise.all([a, c].map((w) => w.whenSaved()));
      arrived.mockRestore();
      // Every acknowledged edit is there, from the compacted snapshot plus the log after it; the client offline
      // across the compaction syncs as usual, and a new one loads the same map.
      b.connect();
      await b.whenSaved();
      const expected = (await serverDoc(mapId)) as { root: { children: { text: string }[] } };
      expect(expected.root.children).toHaveLength(sent + 1);
      const fresh = client(alice, mapId);
      const mf = await fresh.whenLoaded();
      await eventually(() =>
        [ma, mc, mb, mf].every((m) => JSON.stringify(m.toJSON()) === JSON.stringify(expected)),
      );
      const tail = await content.readAfter('t1', mapId, -1);
      expect(tail?.entries.length).toBeLessThan(sent + 1);
    });
  });
}
