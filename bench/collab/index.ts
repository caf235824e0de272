/**
 * `npm run bench collab`: Canopy's co-editing server under load, run as a real child process (SQLite: every
 * acknowledged edit is on disk, its WAL synced, and the room relays it to its editors once committed,
 * docs/protocol/collab.md R10, R11; with BENCH_COLLAB_DATABASE=sqlite,postgres also on PostgreSQL). Canopy's
 * runs also print the senders' ack latency.
 *
 * - fan-out: 1 map × 50 clients × 5 edits/s; latency from a sender's send to each other client's receipt,
 *   p50/p99; then higher rates until p99 passes 100 ms (the highest sustained rate below that is reported);
 *   each run also prints the CPU the server and this load generator used over its paced edits (a bench that
 *   saturates itself measures itself), the server's CPU time per edit (user + system, from the first paced edit
 *   to the end of the run: other work on a shared machine moves it far less than it moves latency), this load
 *   generator's own GC time and pauses over 5 ms (each delays the deliveries it was about to read) and the load
 *   average;
 * - crossing edits: the issue's load again, each edit crossing the one sent before it in flight (`crossed`), as
 *   when people type at the same time;
 * - idle rooms: 500 maps × 2 idle clients on a fresh server process; server RSS growth per room.
 *
 * Peers under the same load (yjs-peers.ts): Hocuspocus 3.4.4 (the newest that runs on Node 20) and the
 * y-websocket 2.1 server, both in memory with no persistence: they acknowledge nothing durably.
 *
 * Each server first gets 3 s of the issue's load on a map of its own, not reported (JIT and WebAssembly
 * tier-up of a fresh process would otherwise count against its first run); BENCH_COLLAB_WARMUP=<s> makes it
 * longer, in runs of up to 10 s on a new map each (session 18: Canopy's compiling goes on for ~40 s of the load,
 * its CPU per edit falling by a quarter meanwhile, and a 40 s warm-up left the p99 ratio where it was).
 *
 * The load generator does the same work for every server: senders' updates are prepared before the run (on
 * one replica taking each sender's id in turn, so the history is causal, as in live co-editing), and
 * receivers are raw sockets that find each update in the bytes they get, without applying it to a document.
 *
 * Each round prints how much CPU the host took meanwhile (steal, Linux); with BENCH_COLLAB_MAX_STEAL=<ms> a run
 * over that is made again, up to twice (off by default: see below).
 *
 * BENCH_COLLAB_ONLY=canopy,hocuspocus,y-websocket picks servers; BENCH_COLLAB_QUICK=1 runs only the issue's
 * load (250 edits/s; with BENCH_COLLAB_CROSSING=1 also its crossing run); BENCH_COLLAB_RATES=1000,2000 runs
 * only those rates (6 s each, no ladder, no idle rooms); BENCH_COLLAB_PROFILE=<dir> writes the Canopy server's
 * CPU profile there; BENCH_COLLAB_NODE_ARGS='<flags>' gives its node process more flags (V8's heap sizes, say);
 * BENCH_COLLAB_STRUCTURAL=k makes every k-th round of Canopy's paced edits add topics instead of typing, and a
 * quick run reports their fan-out apart (updates that are not typing are checked on the replica's state, R9;
 * session 10 measured a design whose checks waited for a thread with it).
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { MindMap } from '@canopy/model';
import { decodeServer, encodeClient } from '@canopy/sdk';
import { createMap, start } from './canopy-server.ts';
import { fsyncProbe, pct } from './measure.ts';
import { startPeer, yClient, type Peer } from './yjs-peers.ts';

async function socket(
  base: string,
  who: string,
  mapId: string,
  onFrame: (bytes: Uint8Array) => void,
): Promise<{ ws: WebSocket; welcome: Uint8Array }> {
  const t = await fetch(`${base}/api/v1/maps/${mapId}/collab-ticket`, {
    method: 'POST',
    headers: { authorization: `Test ${who}@t1` },
  });
  const { url } = (await t.json()) as { url: string };
  const ws = new WebSocket(base.replace(/^http/, 'ws') + url);
  return new Promise((resolve) => {
    ws.on('open', () => ws.send(encodeClient.hello(new Uint8Array())));
    let welcomed = false;
    ws.on('message', (d: Buffer) => {
      const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
      if (!welcomed) {
        welcomed = true;
        const f = decodeServer(bytes);
        if (f.type === 'welcome') resolve({ ws, welcome: f.updates.slice() });
        return;
      }
      onFrame(bytes);
    });
  });
}

/** The machine's 1-minute load average: other work on a shared machine moves every figure. */
const loadAverage = () => `load average ${loadavg()[0]?.toFixed(2) ?? '?'}`;

/**
 * Edits that cross in flight: with two replicas, edits are made on them in turn (whoever the sender; the sender's
 * peer id is set on the replica for each edit) and a replica takes in the other's edits one turn late. Each
 * edit then builds on all edits before it but the one made just before it, which it crosses: as when people
 * type at the same time, each sending before the other's edit reached them (at the issue's load, an edit every
 * 4 ms against a fan-out of 1-2 ms, a good part of edits do). Returns the replica for the next edit (`made`
 * holds the edits so far, in order), after feeding it what it takes in. With one replica, edits follow each
 * other and nothing is fed.
 */
function crossed<R>(
  replicas: R[],
  made: readonly Uint8Array[],
  feed: (replica: R, update: Uint8Array) => void,
) {
  return (): R => {
    if (replicas.length === 1) return replicas[0]!;
    const replica = replicas[made.length % 2]!;
    // Edit n-3 was made on the other replica: this one has all before it, and n-1 stays in flight.
    const late = made[made.length - 3];
    if (late) feed(replica, late);
    return replica;
  };
}

/**
 * An update's bytes as a string key. Not a hash: a SHA-1 per received message (12,250 a second at the issue's
 * load) made this process's own GC pause for 5-15 ms some 15 times per 10 s run, which landed in Canopy's p99
 * (the Yjs receivers read a short marker string instead, and paused a third as much).
 */
const key = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/** One fan-out run at `rate` edits/s in total for `seconds`. */
async function fanOut(
  base: string,
  clients: number,
  rate: number,
  seconds: number,
  serverCpu: () => number,
  crossing = false,
  structuralEvery = Number(process.env.BENCH_COLLAB_STRUCTURAL ?? 0),
) {
  const people = Array.from({ length: clients }, (_, i) => `u${i}`);
  const { id } = await createMap(base, `fan-out ${rate}`, people.slice(1));
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  // BENCH_COLLAB_STRUCTURAL=k (Canopy): every k-th round of paced edits adds topics instead of typing; their
  // fan-out (updates that are not typing: checked on the replica's state, R9) is reported apart.
  const structural = new Set<string>();
  const structuralLatencies: number[] = [];
  // From a paced edit's send to its sender's ack: on SQLite, once its WAL is synced (the durable ack).
  const ackDue = new Map<number, number>();
  const ackLatencies: number[] = [];
  let acks = 0;
  const sockets = await Promise.all(
    people.map((who) =>
      socket(base, who, id, (bytes) => {
        if (bytes[0] === 0x82) {
          const update = key(bytes.subarray(1));
          const at = sentAt.get(update);
          if (at !== undefined) {
            const latency = performance.now() - at;
            latencies.push(latency);
            if (structural.has(update)) structuralLatencies.push(latency);
          }
        } else if (bytes[0] === 0x83) {
          acks++;
          const frame = decodeServer(bytes);
          const at = frame.type === 'ack' ? ackDue.get(frame.ref) : undefined;
          if (at !== undefined) ackLatencies.push(performance.now() - at);
        }
      }),
    ),
  );
  // Prepare each sender's updates: a topic of its own, then its text set again and again. They are made on one
  // replica that takes each sender's peer id in turn, so every edit follows all the edits sent before it, as
  // when clients keep up with the room (edits made on 50 isolated replicas would be 50 concurrent branches for
  // the whole run, which costs a CRDT far more than live co-editing does). With `crossing`, see `crossed`.
  const perSender = Math.ceil((rate * seconds) / clients);
  const prepared: Uint8Array[][] = Array.from({ length: clients }, () => []);
  const replicas = (crossing ? [1000n, 1001n] : [1000n]).map((peerId) => {
    const opened = MindMap.fromSnapshot(sockets[0]!.welcome, { peerId });
    if (!opened.ok) throw opened.error;
    return opened.value;
  });
  const made: Uint8Array[] = [];
  let author = 0;
  for (const replica of replicas)
    replica.onLocalUpdate((u) => {
      prepared[author]!.push(u);
      made.push(u);
    });
  const replicaFor = crossed(replicas, made, (replica, update) => {
    const r = replica.importUpdates(update);
    if (!r.ok) throw r.error;
  });
  const topics: string[] = [];
  for (author = 0; author < clients; author++) {
    const world = replicaFor();
    world.setPeerId(BigInt(1000 + author));
    topics.push(world.addTopic(world.centralTopicId(), undefined, { text: `client ${author}` }));
  }
  for (let k = 0; k < perSender; k++) {
    for (author = 0; author < clients; author++) {
      const world = replicaFor();
      world.setPeerId(BigInt(1000 + author));
      if (structuralEvery > 0 && k % structuralEvery === structuralEvery - 1) {
        world.addTopic(topics[author]!, undefined, { text: `k${k}` });
        structural.add(key(prepared[author]!.at(-1)!));
      } else world.editText(topics[author]!, 0, 0, 'x');
    }
  }
  // The topic creations first, then the paced edits.
  for (let i = 0; i < clients; i++) sockets[i]!.ws.send(encodeClient.update(0, prepared[i]![0]!));
  await new Promise((r) => setTimeout(r, 1000));
  latencies.length = 0;
  const interval = 1000 / rate;
  const paced = watchPaced(serverCpu);
  const started = performance.now();
  let sent = 0;
  const total = perSender * clients;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - started) / interval));
      while (sent < due) {
        const sender = sent % clients;
        const update = prepared[sender]![1 + Math.floor(sent / clients)]!;
        const now = performance.now();
        sentAt.set(key(update), now);
        ackDue.set(sent + 1, now);
        sockets[sender]!.ws.send(encodeClient.update(sent + 1, update));
        sent++;
      }
      if (sent >= total) resolve();
      else setTimeout(tick, Math.max(1, interval / 2));
    };
    tick();
  });
  await new Promise((r) => setTimeout(r, 1500));
  const { cpuMsPerEdit, ...usage } = paced.stop(total);
  for (const s of sockets) s.ws.close();
  const expected = total * (clients - 1);
  return {
    rate,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    structuralP50: pct(structuralLatencies, 50),
    structuralP99: pct(structuralLatencies, 99),
    received: latencies.length,
    expected,
    acks,
    ackP50: pct(ackLatencies, 50),
    ackP99: pct(ackLatencies, 99),
    cpuMsPerEdit,
    usage,
  };
}

async function idleRooms(start: Awaited<ReturnType<typeof startServer>>, maps: number) {
  const before = start.rss();
  const sockets: WebSocket[] = [];
  for (let i = 0; i < maps; i++) {
    const { id } = await createMap(start.url, `idle ${i}`, ['u1']);
    for (const who of ['u0', 'u1']) sockets.push((await socket(start.url, who, id, () => undefined)).ws);
  }
  await new Promise((r) => setTimeout(r, 2000));
  const after = start.rss();
  for (const s of sockets) s.close();
  return { maps, perRoomBytes: (after - before) / maps };
}
const startServer = start;

/**
 * The same load on a Yjs server: each sender's updates prepared beforehand on one Y.Doc that takes each
 * sender's client id in turn (as for Canopy), each value a marker the receivers find in the raw bytes they get
 * (as Canopy's receivers hash them) without applying them to a document.
 */
async function fanOutY(
  peer: Peer,
  base: string,
  clients: number,
  rate: number,
  seconds: number,
  serverCpu: () => number,
  crossing = false,
) {
  const room = `room-${rate}-${Math.random().toString(36).slice(2)}`;
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const marker = Buffer.from('@@m');
  const end = Buffer.from('@@');
  // Markers are `@@m<sender>:<k>`; these servers also echo an update to its sender, which is not a fan-out.
  const received = (receiver: number, message: Uint8Array) => {
    const bytes = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
    for (let at = bytes.indexOf(marker); at >= 0; at = bytes.indexOf(marker, at + 1)) {
      const key = bytes.toString('latin1', at, bytes.indexOf(end, at + marker.length));
      const sent = sentAt.get(key);
      if (sent !== undefined && !key.startsWith(`@@m${receiver}:`)) latencies.push(performance.now() - sent);
    }
  };
  const sockets = await Promise.all(
    Array.from({ length: clients }, (_, i) => yClient(peer, base, room, (message) => received(i, message))),
  );
  const perSender = Math.ceil((rate * seconds) / clients);
  const prepared: Uint8Array[][] = Array.from({ length: clients }, () => []);
  const docs = (crossing ? [0, 1] : [0]).map(() => new Y.Doc());
  const made: Uint8Array[] = [];
  let author = 0;
  for (const doc of docs)
    doc.on('update', (u: Uint8Array, origin: unknown) => {
      if (origin === 'remote') return;
      prepared[author]!.push(u);
      made.push(u);
    });
  const replicaFor = crossed(docs, made, (doc, update) => Y.applyUpdate(doc, update, 'remote'));
  const markerOf = (sender: number, k: number) => `@@m${sender}:${k}`;
  for (let k = -1; k < perSender; k++) {
    for (author = 0; author < clients; author++) {
      const world = replicaFor();
      world.clientID = 1000 + author;
      world.getMap('m').set(`s${author}`, `${markerOf(author, k)}@@`);
    }
  }
  for (let i = 0; i < clients; i++) sockets[i]!.send(prepared[i]![0]!);
  await new Promise((r) => setTimeout(r, 1000));
  latencies.length = 0;
  const total = perSender * clients;
  const interval = 1000 / rate;
  const paced = watchPaced(serverCpu);
  const started = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - started) / interval));
      while (sent < due) {
        const sender = sent % clients;
        const k = Math.floor(sent / clients);
        sentAt.set(markerOf(sender, k), performance.now());
        sockets[sender]!.send(prepared[sender]![1 + k]!);
        sent++;
      }
      if (sent >= total) resolve();
      else setTimeout(tick, Math.max(1, interval / 2));
    };
    tick();
  });
  await new Promise((r) => setTimeout(r, 1500));
  const { cpuMsPerEdit, ...usage } = paced.stop(total);
  for (const c of sockets) c.close();
  return {
    rate,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    received: latencies.length,
    expected: total * (clients - 1),
    cpuMsPerEdit,
    usage,
  };
}

type Run = (
  rate: number,
  seconds: number,
  /** Edits that cross in flight (`crossed`) instead of following each other. */
  crossing?: boolean,
) => Promise<{
  rate: number;
  p50: number;
  p99: number;
  received: number;
  expected: number;
  /** Canopy only: from an edit's send to its sender's (durable) ack. */
  ackP50?: number;
  ackP99?: number;
  /** Canopy only, with BENCH_COLLAB_STRUCTURAL: the fan-out of the paced edits that add a topic. */
  structuralP50?: number;
  structuralP99?: number;
  /** Server CPU (user + system) from the first paced edit to the end of the run, per edit sent. */
  cpuMsPerEdit: number;
  /** Over the same span: the server's and this process's CPU shares and this process's GC. */
  usage: Usage;
}>;

interface Usage {
  server: number;
  generator: number;
  gcMs: number;
  longPauses: number;
  /** Milliseconds this process's main thread was ready to run and waited for a CPU (Linux), else NaN. */
  cpuWaitMs: number;
  /** CPU milliseconds the hypervisor took from this machine's CPUs, all of them together (Linux), else NaN. */
  stealMs: number;
}

/**
 * Nanoseconds this process's main thread has waited for a CPU while ready to run (Linux's schedstat), else
 * NaN: the load generator shares the machine with the server, and the server's threads (its event loop, V8's
 * GC workers, its mirror) can keep it from reading what arrived.
 */
function cpuWaitNs(): number {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[1]);
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU milliseconds a hypervisor has taken from this machine's CPUs so far, all CPUs together ("steal", Linux's
 * /proc/stat, in its 10 ms ticks), else NaN. On a shared host it comes in bursts: a run during one measures
 * the host as much as the servers (session 17 saw 13 s of a 45 s quick run's 90 s of CPU taken, and p99 of
 * 40 ms where a quiet minute gave 4).
 */
function stealMs(): number {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
    return cpu[0] === 'cpu' && cpu[8] !== undefined ? Number(cpu[8]) * 10 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * What the server and this load generator use from now to `stop()`, which the runs call around their paced
 * edits (preparing the edits is work of this process's own, and garbage). CPU as a share of one core; this
 * process's GC pauses (each delays every delivery a receiver was about to read) in all, and those over 5 ms.
 */
function watchPaced(serverCpu: () => number) {
  const pauses: number[] = [];
  const observer = new PerformanceObserver((list) =>
    pauses.push(...list.getEntries().map((e) => e.duration)),
  );
  observer.observe({ entryTypes: ['gc'] });
  const server0 = serverCpu();
  const generator0 = process.cpuUsage();
  const wait0 = cpuWaitNs();
  const steal0 = stealMs();
  const t0 = performance.now();
  return {
    stop: (edits: number): Usage & { cpuMsPerEdit: number } => {
      observer.disconnect();
      const wall = (performance.now() - t0) / 1000;
      const server = serverCpu() - server0;
      const generator = process.cpuUsage(generator0);
      return {
        cpuMsPerEdit: (server * 1000) / edits,
        server: server / wall,
        generator: (generator.user + generator.system) / 1e6 / wall,
        gcMs: pauses.reduce((a, d) => a + d, 0),
        longPauses: pauses.filter((d) => d > 5).length,
        cpuWaitMs: (cpuWaitNs() - wait0) / 1e6,
        stealMs: stealMs() - steal0,
      };
    },
  };
}

/** Runs `run` and says how much CPU the server and this load generator used over its paced edits. */
async function measured(run: Run, rate: number, seconds: number, crossing = false) {
  const r = await run(rate, seconds, crossing);
  const { server, generator, gcMs, longPauses, cpuWaitMs, stealMs } = r.usage;
  const cpu =
    `server CPU ${(server * 100).toFixed(0)}% (${r.cpuMsPerEdit.toFixed(2)} ms per edit), ` +
    `load generator ${(generator * 100).toFixed(0)}% ` +
    `(GC ${gcMs.toFixed(0)} ms, ${longPauses} pauses > 5 ms, waited ${cpuWaitMs.toFixed(0)} ms for a CPU), ` +
    `${loadAverage()}, the host took ${stealMs.toFixed(0)} ms of CPU (steal)`;
  return { ...r, cpu };
}

/** The sender's ack latency, where the server sends acks (Canopy). */
const acked = (r: { ackP50?: number; ackP99?: number }) =>
  r.ackP50 === undefined || Number.isNaN(r.ackP50)
    ? ''
    : `; durable ack p50 ${r.ackP50.toFixed(1)} ms, p99 ${(r.ackP99 ?? NaN).toFixed(1)} ms`;

/** The issue's load as a line of the report: p50/p99 (deliveries), the durable ack, the new topics. */
function loadLine(r: Awaited<ReturnType<Run>>): string {
  const structural =
    r.structuralP99 !== undefined && !Number.isNaN(r.structuralP99)
      ? `; new topics among them (BENCH_COLLAB_STRUCTURAL): p50 ${(r.structuralP50 ?? NaN).toFixed(1)} ms, p99 ${r.structuralP99.toFixed(1)} ms`
      : '';
  return `p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms (${r.received}/${r.expected} deliveries)${acked(r)}${structural}`;
}

/**
 * After the rounds: the issue's load with crossing edits, then higher (or lower) rates until p99 passes 100 ms.
 * `first` is the issue's load as the rounds measured it. Not with BENCH_COLLAB_QUICK (crossing only if
 * BENCH_COLLAB_CROSSING=1).
 */
async function ladder(run0: Run, first: { p99: number; received: number; expected: number }) {
  const run = (rate: number, seconds: number, crossing = false) => measured(run0, rate, seconds, crossing);
  const crossingRun = async () => {
    const r = await run(250, 10, true);
    console.log(
      `  250 edits/s, each edit crossing the one before it: p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms (${r.received}/${r.expected} deliveries; ${r.cpu})`,
    );
    return r;
  };
  if (process.env.BENCH_COLLAB_QUICK) {
    const crossing = process.env.BENCH_COLLAB_CROSSING ? await crossingRun() : undefined;
    return { best: NaN, crossing };
  }
  const crossing = await crossingRun();
  const ok = (r: { p99: number; received: number; expected: number }) =>
    r.p99 <= 100 && r.received >= r.expected * 0.99;
  let best = ok(first) ? 250 : 0;
  for (const rate of best ? [500, 1000, 2000, 4000] : [100, 50, 25]) {
    const r = await run(rate, 6);
    console.log(
      `  ${rate} edits/s: p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms (${r.received}/${r.expected} deliveries; ${r.cpu})`,
    );
    if (ok(r)) best = Math.max(best, rate);
    if (best ? !ok(r) || rate < 250 : false) break;
  }
  console.log(`  highest sustained rate with p99 ≤ 100 ms (of those tried): ${best} edits/s`);
  return { best, crossing };
}

/** The middle value; of an even count (BENCH_COLLAB_ROUNDS=2, 4), the mean of the two middle ones. */
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : s.length > 0 ? (s[mid - 1]! + s[mid]!) / 2 : NaN;
};

async function idleY(peer: Peer, target: Awaited<ReturnType<typeof startPeer>>, maps: number) {
  const before = target.rss();
  const clients = [];
  for (let i = 0; i < maps; i++)
    for (let j = 0; j < 2; j++) clients.push(await yClient(peer, target.url, `idle-${i}`));
  await new Promise((r) => setTimeout(r, 2000));
  const after = target.rss();
  for (const c of clients) c.close();
  return (after - before) / maps;
}

/** A server under test: how to run the load on it, and how to start a fresh one (for the idle rooms). */
interface Contender {
  name: string;
  title: string;
  run: Run;
  stop(): Promise<void> | void;
  /** A fresh process's server RSS growth per room, 500 maps × 2 idle clients. */
  idle(): Promise<number>;
}

/**
 * A round the host took at most this much CPU from (steal over its ~10 s, on 2 CPUs: 1%) counts as quiet; the
 * summary gives the p99 ratio over the pairs of rounds quiet for both servers.
 */
const QUIET_STEAL_MS = 200;
/** Runs of the issue's load made again because the host took CPU meanwhile (BENCH_COLLAB_MAX_STEAL). */
const STEAL_RETRIES = 2;
// BENCH_COLLAB_ONLY=canopy,hocuspocus,y-websocket (default: all three).
const only = (process.env.BENCH_COLLAB_ONLY ?? 'canopy,hocuspocus,y-websocket').split(',');
// BENCH_COLLAB_DATABASE=sqlite,postgres (default sqlite; PostgreSQL at CANOPY_TEST_POSTGRES_URL, as the tests).
const databases = (process.env.BENCH_COLLAB_DATABASE ?? 'sqlite').split(',') as ('sqlite' | 'postgres')[];
const contenders: Contender[] = [];
if (only.includes('canopy')) console.log(fsyncProbe());
for (const database of only.includes('canopy') ? databases : []) {
  const srv = await startServer(database);
  let stopped: Promise<void> | undefined;
  contenders.push({
    name: database === 'sqlite' ? 'canopy' : `canopy-${database}`,
    title:
      database === 'sqlite'
        ? 'canopy (real process, SQLite, acknowledges once the append is on disk, relays it to editors once committed)'
        : `canopy (real process, ${database}, acknowledges after the committed append)`,
    run: (rate, seconds, crossing) => fanOut(srv.url, 50, rate, seconds, srv.cpu, crossing),
    stop: () => (stopped ??= srv.stop()),
    idle: async () => {
      // On a fresh process: after the fan-out runs, the heap's ups and downs would drown it.
      await (stopped ??= srv.stop());
      const fresh = await startServer(database);
      try {
        return (await idleRooms(fresh, 500)).perRoomBytes;
      } finally {
        await fresh.stop();
      }
    },
  });
}
for (const peer of (['hocuspocus', 'y-websocket'] as const).filter((p) => only.includes(p))) {
  const target = await startPeer(peer);
  contenders.push({
    name: peer,
    title: `${peer} (in memory, no durability)`,
    run: (rate, seconds, crossing) => fanOutY(peer, target.url, 50, rate, seconds, target.cpu, crossing),
    stop: () => void target.stop(),
    idle: async () => {
      target.stop();
      const fresh = await startPeer(peer);
      try {
        return await idleY(peer, fresh, 500);
      } finally {
        fresh.stop();
      }
    },
  });
}

const results: Record<
  string,
  {
    p50: number;
    p99s: number[];
    p99: number;
    best: number;
    perRoom: number;
    cpu: number;
    crossingP99: number;
    /** Per round of the issue's load, the CPU ms the host took meanwhile (steal). */
    steals: number[];
  }
> = {};
try {
  // Warm-up, not reported: a fresh process spends its first seconds compiling (V8's optimising tiers, and for
  // Canopy Loro's WebAssembly), which would count against whichever run comes first.
  const warmup = Number(process.env.BENCH_COLLAB_WARMUP ?? 3);
  for (const c of contenders)
    for (let left = warmup; left > 0; left -= 10) await c.run(250, Math.min(10, left));
  if (process.env.BENCH_COLLAB_RATES) {
    for (const c of contenders)
      for (const rate of process.env.BENCH_COLLAB_RATES.split(',').map(Number)) {
        const r = await measured(c.run, rate, 6);
        console.log(
          `${c.name}: ${rate} edits/s: p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms (${r.received}/${r.expected} deliveries; ${r.cpu})`,
        );
      }
  } else {
    // The issue's load in rounds (BENCH_COLLAB_ROUNDS; 3, or 1 with BENCH_COLLAB_QUICK): each round runs it for
    // 10 s on every server in turn, the order rotating, so that what else this machine does over the minutes
    // falls on all of them alike. A p99 of one 10 s run rests on its 25 slowest edits, and moves by a third
    // between runs of the same server: the report gives each server's median over its rounds.
    const rounds = Number(process.env.BENCH_COLLAB_ROUNDS ?? (process.env.BENCH_COLLAB_QUICK ? 1 : 3));
    // BENCH_COLLAB_MAX_STEAL=<ms> (500 is 2.5% of 2 CPUs over 10 s; quiet minutes here took 10-150): a run
    // during which the host took more CPU than that is run again, up to twice, whichever server it was, and
    // what it measured is printed. Off by default: the host took more from the server that used more CPU
    // (session 17: 970-3,920 ms in six of Canopy's runs in a row, 150-390 in Hocuspocus's between them), so
    // where steal follows the guest's own load, dropping such runs favours the heavier server.
    const maxSteal = Number(process.env.BENCH_COLLAB_MAX_STEAL ?? Infinity);
    const runs = new Map<Contender, Awaited<ReturnType<typeof measured>>[]>(contenders.map((c) => [c, []]));
    for (let round = 0; round < rounds; round++) {
      console.log(`round ${round + 1} of ${rounds}: the issue's load, 1 map × 50 clients × 5 edits/s`);
      const order = contenders.map((_c, i) => contenders[(i + round) % contenders.length]!);
      for (const c of order) {
        let r = await measured(c.run, 250, 10);
        for (let again = 0; again < STEAL_RETRIES && r.usage.stealMs > maxSteal; again++) {
          console.log(
            `  ${c.name}: p99 ${r.p99.toFixed(1)} ms, but the host took ${r.usage.stealMs.toFixed(0)} ms of CPU meanwhile: run again`,
          );
          r = await measured(c.run, 250, 10);
        }
        runs.get(c)!.push(r);
        console.log(`  ${c.name}: ${loadLine(r)}\n    (${r.cpu})`);
      }
    }
    for (const c of contenders) {
      const mine = runs.get(c)!;
      const first = {
        p50: median(mine.map((r) => r.p50)),
        p99: median(mine.map((r) => r.p99)),
        received: mine.reduce((a, r) => a + r.received, 0),
        expected: mine.reduce((a, r) => a + r.expected, 0),
        cpu: median(mine.map((r) => r.cpuMsPerEdit)),
      };
      console.log(c.title);
      console.log(
        `${c.name}: 1 map × 50 clients × 5 edits/s: fan-out p50 ${first.p50.toFixed(1)} ms, p99 ${first.p99.toFixed(1)} ms ` +
          `(median of ${mine.length} rounds: p99 ${mine.map((r) => r.p99.toFixed(1)).join(', ')}; ` +
          `${first.received}/${first.expected} deliveries; ${first.cpu.toFixed(2)} ms server CPU per edit)`,
      );
      const { best, crossing } = await ladder(c.run, first);
      const perRoom = process.env.BENCH_COLLAB_QUICK ? NaN : await c.idle();
      if (!process.env.BENCH_COLLAB_QUICK)
        console.log(`  500 maps × 2 idle clients: ${(perRoom / 1024).toFixed(0)} KiB server RSS per room`);
      results[c.name] = {
        p50: first.p50,
        p99s: mine.map((r) => r.p99),
        p99: first.p99,
        best,
        perRoom,
        cpu: first.cpu,
        crossingP99: crossing?.p99 ?? NaN,
        steals: mine.map((r) => r.usage.stealMs),
      };
    }
  }
} finally {
  for (const c of contenders) await c.stop();
}
/** A ratio as the report prints it; "not measured" where a run (BENCH_COLLAB_QUICK) left a figure out. */
const times = (a: number, b: number) => (Number.isFinite(a / b) ? `×${(a / b).toFixed(2)}` : 'not measured');
const range = (xs: number[]) =>
  xs.length > 1
    ? ` (round by round ${xs.map((x) => `×${x.toFixed(2)}`).join(', ')}; their median ×${median(xs).toFixed(2)})`
    : '';
for (const [name, c] of Object.entries(results).filter(([n]) => n.startsWith('canopy'))) {
  for (const peer of ['hocuspocus', 'y-websocket']) {
    const p = results[peer];
    if (!p) continue;
    // Round by round: each pair ran back to back.
    const perRound = c.p99s.map((v, i) => v / (p.p99s[i] ?? NaN));
    console.log(
      `${name} / ${peer}: p50 ${times(c.p50, p.p50)}, p99 ${times(c.p99, p.p99)} of the medians${range(perRound)}, ` +
        `p99 with crossing edits ${times(c.crossingP99, p.crossingP99)} (lower is better), ` +
        `sustained edits/s ${times(c.best, Math.max(1, p.best))} (higher is better), memory per room ${times(c.perRoom, p.perRoom)}, ` +
        `server CPU per edit at 250 edits/s ${times(c.cpu, p.cpu)}`,
    );
    // The host's steal during each one's rounds: a p99 ratio between rounds the host treated differently
    // says more about the host than about the servers.
    const stole = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
    console.log(
      `  the host took ${stole(c.steals)} ms of CPU during ${name}'s rounds, ${stole(p.steals)} ms during ${peer}'s`,
    );
    // #7's goal is judged on quiet rounds: the pairs in which the host took little from either.
    const quiet = perRound.filter(
      (_r, i) => Math.max(c.steals[i] ?? Infinity, p.steals[i] ?? Infinity) <= QUIET_STEAL_MS,
    );
    console.log(
      quiet.length > 0
        ? `  in the ${quiet.length} of ${perRound.length} rounds where the host took ${QUIET_STEAL_MS} ms or less from both: p99 ` +
            `${quiet.map((x) => `×${x.toFixed(2)}`).join(', ')} (their median ×${median(quiet).toFixed(2)})`
        : `  no round where the host took ${QUIET_STEAL_MS} ms or less from both`,
    );
  }
}
