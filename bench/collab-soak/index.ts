/**
 * `npm run bench collab-soak`: whether a co-editing server's memory stays flat over a long stretch of ordinary
 * use (a server runs for weeks; the collab bench's runs last seconds). Canopy and Hocuspocus 3.4.4 (the collab
 * bench's peer, in memory) under the same pattern, one after the other, each alone on the machine:
 *
 * - BENCH_SOAK_MAPS (12) maps open at once, BENCH_SOAK_CLIENTS (4) clients in each, every client making an
 *   edit about once a second: typing into a topic of its own (its text cut back when it passes 200
 *   characters), one edit in eight a new topic under it (the oldest of them deleted past 12), one in
 *   sixteen a move of one to the map's central topic and back;
 * - every BENCH_SOAK_TURNOVER_S (15) s the oldest map's session ends (all its clients leave, so its room
 *   closes: Hocuspocus unloads the document, Canopy folds and drops the room) and a new map's begins, and one
 *   client elsewhere drops its socket and reconnects;
 * - Canopy's clients are the SDK's (`CollabClient`, a full replica each; their selection goes into presence
 *   every few seconds), Hocuspocus's raw Yjs clients (bench/collab/yjs-peers.ts) applying what they get, with
 *   no awareness.
 *
 * After a warm-up minute, BENCH_SOAK_MINUTES (4) of it are measured: the server's RSS every 10 s (Canopy's
 * heap and Loro's WebAssembly memory too, the event loop's and the mirror thread's, from /metrics; for both,
 * the resident parts of the main thread's malloc arena and of WebAssembly memories, resident.ts), its growth
 * from the first to the last minute and as a least-squares slope per hour, and the RSS once every session has
 * ended and the server has been idle for 15 s. Canopy's sessions are checked as they end: every client saved
 * (acknowledged) and holding the same map; the bench fails otherwise.
 */
import WebSocket from 'ws';
import * as Y from 'yjs';
import type { MindMap } from '@canopy/model';
import { CollabClient, type WebSocketConstructor } from '@canopy/sdk';
import { createMap, start } from '../collab/canopy-server.ts';
import { startPeer, yClient, type YClient } from '../collab/yjs-peers.ts';
import { residentParts } from './resident.ts';

const MAPS = Number(process.env.BENCH_SOAK_MAPS ?? 12);
const CLIENTS = Number(process.env.BENCH_SOAK_CLIENTS ?? 4);
const TURNOVER_MS = Number(process.env.BENCH_SOAK_TURNOVER_S ?? 15) * 1000;
const MEASURED_MS = Number(process.env.BENCH_SOAK_MINUTES ?? 4) * 60_000;
const WARMUP_MS = Number(process.env.BENCH_SOAK_WARMUP_S ?? 60) * 1000;
const SAMPLE_MS = 10_000;
/** A text is cut back to half when it passes this, a topic's children past `MAX_CHILDREN`. */
const MAX_TEXT = 200;
const MAX_CHILDREN = 12;

/** One client of one session, whatever the server: an edit, a reconnect, leaving. */
interface SoakClient {
  edit(rnd: number): void;
  reconnect(): void;
  leave(): Promise<void>;
}

/** A server under the soak: how to open a session of `CLIENTS` clients, and how to read its memory. */
interface Target {
  name: string;
  session(index: number): Promise<{ clients: SoakClient[]; end(): Promise<void> }>;
  rss(): number;
  /** Extra figures sampled with the RSS (Canopy's heap and Loro's memory, resident parts), by label, in bytes. */
  extra(): Promise<Record<string, number>>;
  edits(): number;
  stop(): Promise<void> | void;
}

const NodeWebSocket = WebSocket as unknown as WebSocketConstructor;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** `promise`, or an error with `message` if it has not settled within `ms`. */
async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
const MB = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

async function canopy(): Promise<Target> {
  const srv = await start('sqlite');
  const people = Array.from({ length: CLIENTS }, (_, i) => `u${i}`);
  let edits = 0;
  const metric = async (name: string) => {
    const text = await (await fetch(`${srv.url}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
  };
  return {
    name: 'canopy',
    rss: srv.rss,
    edits: () => edits,
    extra: async () => ({
      heap: await metric('nodejs_heap_size_used_bytes'),
      loro: await metric('canopy_loro_heap_bytes'),
      'loro (mirror thread)': await metric('canopy_collab_mirror_loro_heap_bytes'),
      ...residentParts(srv.pid),
    }),
    stop: srv.stop,
    async session(index) {
      const { id } = await createMap(srv.url, `soak ${index}`, people.slice(1));
      const clients = people.map((who) => {
        const client = new CollabClient({
          WebSocket: NodeWebSocket,
          url: async () => {
            const t = await fetch(`${srv.url}/api/v1/maps/${id}/collab-ticket`, {
              method: 'POST',
              headers: { authorization: `Test ${who}@t1` },
            });
            if (t.status !== 201) throw new Error(`ticket: ${t.status}`);
            return srv.url.replace(/^http/, 'ws') + ((await t.json()) as { url: string }).url;
          },
          backoff: { initialMs: 50, maxMs: 1000 },
        });
        client.connect();
        return client;
      });
      const maps = await Promise.all(clients.map((c) => c.whenLoaded()));
      const own = maps.map((map, i) =>
        map.addTopic(map.centralTopicId(), undefined, { text: `client ${i}` }),
      );
      let editsHere = 0;
      let ending = false;
      const soakClients = clients.map((client, i): SoakClient => {
        const map = maps[i]!;
        const mine = own[i]!;
        return {
          edit: (rnd) => {
            if (ending) return;
            editCanopy(map, mine, rnd);
            edits++;
            if (++editsHere % 5 === i % 5) client.setPresence({ selection: [mine] });
          },
          reconnect: () => client.disconnect(true),
          leave: async () => client.close(),
        };
      });
      return {
        clients: soakClients,
        end: async () => {
          ending = true;
          await within(
            Promise.all(clients.map((c) => c.whenSaved())),
            30_000,
            `session ${index}: not saved in 30 s`,
          );
          // Every client saved: the server has acknowledged all of it, and they hold the same map.
          await sleep(500);
          const docs = clients.map((c) => JSON.stringify(c.map?.toJSON()));
          for (const c of clients) c.close();
          // Loro keeps a map that is not freed for the life of the process (MindMap.free).
          for (const map of maps) map.free();
          if (docs.some((d) => d !== docs[0])) throw new Error(`session ${index}: the clients diverged`);
        },
      };
    },
  };
}

/** One edit on a Canopy client's map: typing mostly, sometimes a topic added, deleted or moved. */
function editCanopy(map: MindMap, mine: string, rnd: number): void {
  const topic = map.topic(mine);
  if (!topic) return;
  const children = topic.children;
  if (rnd < 1 / 16 && children.length > 0) {
    const child = children[0]!.id;
    map.moveTopic(child, map.centralTopicId());
    map.moveTopic(child, mine);
  } else if (rnd < 3 / 16) {
    if (children.length >= MAX_CHILDREN) map.deleteTopic(children[0]!.id);
    map.addTopic(mine, undefined, { text: 'note' });
  } else if (topic.text.length > MAX_TEXT) map.editText(mine, 0, MAX_TEXT / 2, '');
  else map.editText(mine, topic.text.length, 0, 'x');
}

async function hocuspocus(): Promise<Target> {
  const peer = await startPeer('hocuspocus');
  let edits = 0;
  const join = async (room: string): Promise<{ client: YClient; send: () => void }> => {
    const client = await yClient('hocuspocus', peer.url, room);
    const updates: Uint8Array[] = [];
    client.doc.on('update', (u: Uint8Array, origin: unknown) => {
      if (origin !== 'remote') updates.push(u);
    });
    return { client, send: () => updates.splice(0).forEach((u) => client.send(u)) };
  };
  return {
    name: 'hocuspocus',
    rss: peer.rss,
    edits: () => edits,
    extra: async () => residentParts(peer.pid),
    stop: () => void peer.stop(),
    async session(index) {
      const room = `soak-${index}`;
      const joined = await Promise.all(Array.from({ length: CLIENTS }, () => join(room)));
      let ending = false;
      const soakClients = joined.map((j, i): SoakClient => {
        let current = j;
        return {
          edit: (rnd) => {
            if (ending) return;
            editY(current.client.doc, i, rnd);
            current.send();
            edits++;
          },
          // A fresh doc that syncs the room's state: what a provider's reconnect costs the server, and more.
          reconnect: () => {
            current.client.close();
            void join(room).then((next) => (current = next));
          },
          leave: async () => current.client.close(),
        };
      });
      return {
        clients: soakClients,
        end: async () => {
          ending = true;
          soakClients.forEach((c) => void c.leave());
        },
      };
    },
  };
}

/** The same edit pattern on a Yjs document: a text per client, its "topics" an array of maps with texts. */
function editY(doc: Y.Doc, i: number, rnd: number): void {
  const text = doc.getText(`text-${i}`);
  const children = doc.getArray<Y.Map<unknown>>(`children-${i}`);
  if (rnd < 1 / 16 && children.length > 0) {
    const central = doc.getArray<Y.Map<unknown>>('central');
    doc.transact(() => {
      const moved = new Y.Map<unknown>();
      moved.set('text', new Y.Text('note'));
      central.push([moved]);
      children.delete(0, 1);
    });
    doc.transact(() => {
      central.delete(central.length - 1, 1);
      const back = new Y.Map<unknown>();
      back.set('text', new Y.Text('note'));
      children.insert(0, [back]);
    });
  } else if (rnd < 3 / 16) {
    doc.transact(() => {
      if (children.length >= MAX_CHILDREN) children.delete(0, 1);
      const child = new Y.Map<unknown>();
      child.set('text', new Y.Text('note'));
      children.push([child]);
    });
  } else if (text.length > MAX_TEXT) text.delete(0, MAX_TEXT / 2);
  else text.insert(text.length, 'x');
}

interface Sample {
  at: number;
  rss: number;
  extra: Record<string, number>;
}

/** Least-squares slope of `ys` over `xs` (per unit of x). */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den > 0 ? num / den : NaN;
}

async function soak(target: Target) {
  type Session = Awaited<ReturnType<Target['session']>>;
  const sessions: Session[] = [];
  let opened = 0;
  for (; opened < MAPS; opened++) sessions.push(await target.session(opened));
  let stop = false;
  const failures: unknown[] = [];
  // Each client edits about once a second, at its own jittered pace.
  const editing = (async () => {
    while (!stop) {
      const all = sessions.flatMap((s) => s.clients);
      const gap = 1000 / Math.max(1, all.length);
      for (const c of all) {
        if (stop) break;
        try {
          c.edit(Math.random());
        } catch (err) {
          failures.push(err);
        }
        await sleep(gap * (0.5 + Math.random()));
      }
    }
  })();
  const turnover = setInterval(() => {
    const oldest = sessions.shift();
    if (oldest) void oldest.end().catch((err: unknown) => failures.push(err));
    const index = opened++;
    void target
      .session(index)
      .then((s) => sessions.push(s))
      .catch((err: unknown) => failures.push(err));
    const some = sessions[Math.floor(Math.random() * sessions.length)];
    some?.clients[Math.floor(Math.random() * some.clients.length)]?.reconnect();
  }, TURNOVER_MS);
  await sleep(WARMUP_MS);
  const t0 = performance.now();
  const edits0 = target.edits();
  const cpu0 = process.cpuUsage();
  const samples: Sample[] = [];
  const sample = async () =>
    samples.push({ at: performance.now() - t0, rss: target.rss(), extra: await target.extra() });
  while (performance.now() - t0 < MEASURED_MS) {
    await sample();
    await sleep(SAMPLE_MS);
  }
  await sample();
  const edits = target.edits() - edits0;
  const cpu = process.cpuUsage(cpu0);
  const generator = (cpu.user + cpu.system) / 1000 / (performance.now() - t0);
  stop = true;
  clearInterval(turnover);
  await editing;
  await Promise.all(sessions.splice(0).map((s) => s.end().catch((err: unknown) => failures.push(err))));
  await sleep(15_000);
  const idle = { rss: target.rss(), extra: await target.extra() };
  await target.stop();
  if (failures.length > 0)
    throw new Error(`${target.name}: ${failures.length} failures, first: ${String(failures[0])}`);

  const minutes = (MEASURED_MS / 60_000).toFixed(0);
  const firstMinute = samples.filter((s) => s.at <= 60_000);
  const lastMinute = samples.filter((s) => s.at >= samples.at(-1)!.at - 60_000);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const growth = (pick: (s: Sample) => number) => mean(lastMinute.map(pick)) - mean(firstMinute.map(pick));
  const perHour = (pick: (s: Sample) => number) =>
    slope(
      samples.map((s) => s.at / 3_600_000),
      samples.map(pick),
    );
  console.log(
    `${target.name}: ${MAPS} maps × ${CLIENTS} clients, a session ending every ${TURNOVER_MS / 1000} s (${opened} in all); ` +
      `${edits} edits in the measured ${minutes} min (${(edits / (MEASURED_MS / 1000)).toFixed(0)}/s; ` +
      `this load generator used ${(generator * 100).toFixed(0)}% of a CPU)`,
  );
  console.log(
    `  RSS every minute: ${samples
      .filter((_s, i) => i % 6 === 0)
      .map((s) => MB(s.rss))
      .join(', ')} MB`,
  );
  const line = (label: string, pick: (s: Sample) => number) =>
    console.log(
      `  ${label}: ${MB(pick(samples[0]!))} -> ${MB(pick(samples.at(-1)!))} MB; ` +
        `last minute against the first ${growth(pick) >= 0 ? '+' : ''}${MB(growth(pick))} MB, ` +
        `slope ${MB(perHour(pick))} MB per hour`,
    );
  line('RSS', (s) => s.rss);
  for (const key of Object.keys(samples[0]!.extra)) line(key, (s) => s.extra[key] ?? NaN);
  console.log(
    `  15 s after every session ended: RSS ${MB(idle.rss)} MB` +
      Object.entries(idle.extra)
        .map(([k, v]) => `, ${k} ${MB(v)} MB`)
        .join(''),
  );
  return { growth: growth((s) => s.rss), perHour: perHour((s) => s.rss), idle: idle.rss, sessions: opened };
}

// BENCH_SOAK_ONLY=canopy or hocuspocus: one of them.
const only = (process.env.BENCH_SOAK_ONLY ?? 'canopy,hocuspocus').split(',');
const results: Record<string, Awaited<ReturnType<typeof soak>>> = {};
for (const [name, make] of [
  ['canopy', canopy],
  ['hocuspocus', hocuspocus],
] as const) {
  if (only.includes(name)) results[name] = await soak(await make());
}
const c = results.canopy;
const h = results.hocuspocus;
if (c && h)
  console.log(
    `canopy / hocuspocus: RSS growth over the measured minutes ${MB(c.growth)} against ${MB(h.growth)} MB ` +
      `(slope ${MB(c.perHour)} against ${MB(h.perHour)} MB per hour), RSS once idle ×${(c.idle / h.idle).toFixed(2)}`,
  );
