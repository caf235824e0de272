/**
 * Crash test (docs/protocol/collab.md R10, R13): a supervisor runs the real server as a child process and kills
 * it with SIGKILL at random moments while clients edit; it records which edits were acknowledged. After each
 * restart, before any client may reconnect (so none can re-send what the server lost), every edit acknowledged
 * before the kill must be in the stored document. At the end the clients converge and no edit is duplicated.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { MapDocument, MindMap } from '@canopy/model';
import { CollabClient } from '@canopy/sdk';
import { testAuthorization } from '../maps/index.ts';
import { eventually, mulberry32, NodeWebSocket } from './test-clients.ts';

const here = dirname(fileURLToPath(import.meta.url));
const trace = (line: string) => {
  if (process.env.CANOPY_CRASH_TRACE)
    appendFileSync(process.env.CANOPY_CRASH_TRACE, `${new Date().toISOString()} ${line}\n`);
};
const KILL_CYCLES = Number(process.env.CANOPY_CRASH_CYCLES ?? 15);
const CLIENTS = 3;

function startServer(dataDir: string, port: number): { child: ChildProcess; url: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'crash-server.ts')], {
    env: { ...process.env, CANOPY_DATA_DIR: dataDir, CANOPY_PORT: String(port), CANOPY_JOBS: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /URL (\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.on('exit', (code, signal) =>
      reject(new Error(`server exited early (${code ?? signal}): ${stderr}`)),
    );
  });
  return { child, url };
}

const texts = (doc: MapDocument): string[] => {
  const out: string[] = [];
  const walk = (t: { text: string; children?: { text: string; children?: unknown[] }[] }) => {
    out.push(t.text);
    for (const c of t.children ?? []) walk(c as typeof t);
  };
  walk(doc.root);
  for (const f of doc.floating) walk(f);
  return out;
};

describe('crash test: SIGKILL while clients edit', () => {
  it(`keeps every acknowledged edit across ${KILL_CYCLES} kills, converges, and duplicates nothing`, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'canopy-crash-'));
    let server = startServer(dataDir, 0);
    let base = await server.url;
    const port = Number(new URL(base).port);
    const people = ['alice', 'bob', 'carol', 'dave'];
    const auth = (who: string) => ({
      authorization: testAuthorization(who, 't1'),
      'content-type': 'application/json',
    });
    const created = await fetch(`${base}/api/v1/maps`, {
      method: 'POST',
      headers: auth('alice'),
      body: JSON.stringify({ title: 'Crash' }),
    });
    const mapId = ((await created.json()) as { id: string }).id;
    for (const who of people.slice(1)) {
      await fetch(`${base}/api/v1/maps/${mapId}/shares`, {
        method: 'POST',
        headers: auth('alice'),
        body: JSON.stringify({ email: `${who}@t1`, role: 'editor' }),
      });
    }

    // Clients may (re)connect only while the gate is open.
    let gate: Promise<void> = Promise.resolve();
    const ticket = async (who: string) => {
      await gate;
      const res = await fetch(`${base}/api/v1/maps/${mapId}/collab-ticket`, {
        method: 'POST',
        headers: { authorization: testAuthorization(who, 't1') },
      });
      if (res.status !== 201) throw new Error(`ticket ${res.status}`);
      return base.replace(/^http/, 'ws') + ((await res.json()) as { url: string }).url;
    };
    const clients = people.slice(0, CLIENTS).map(
      (who) =>
        new CollabClient({
          WebSocket: NodeWebSocket,
          url: () => ticket(who),
          backoff: { initialMs: 20, maxMs: 300 },
        }),
    );
    trace(`map ${mapId} created`);
    clients.forEach((c) => c.connect());
    const maps = await Promise.all(clients.map((c) => c.whenLoaded()));

    trace('clients loaded');
    // Each edit adds a topic with a unique text; we remember the local change count it was made at.
    const edits: { text: string; client: number; change: number }[] = [];
    const acknowledged = () =>
      edits.filter((e) => e.change <= clients[e.client]!.changes.acknowledged).map((e) => e.text);
    let editing = true;
    const rnd = mulberry32(42);
    const editors = maps.map(async (map: MindMap, i) => {
      let k = 0;
      while (editing) {
        const doc = map.toJSON();
        const parents = [doc.root.id, ...doc.root.children.map((c) => c.id)];
        const text = `c${i}-e${k++}`;
        map.addTopic(parents[Math.floor(rnd() * parents.length)] ?? doc.root.id, undefined, { text });
        edits.push({ text, client: i, change: clients[i]!.changes.local });
        // Now and then a move: topics hop between first-level branches.
        const first = doc.root.children;
        if (first.length > 2 && rnd() < 0.2) {
          const a = first[Math.floor(rnd() * first.length)]!;
          const b = first[Math.floor(rnd() * first.length)]!;
          if (a.id !== b.id && a.children[0]) map.moveTopic(a.children[0].id, b.id);
        }
        await new Promise((r) => setTimeout(r, 120 + rnd() * 150));
      }
    });

    let checked = 0;
    const verified = new Set<string>();
    for (let cycle = 0; cycle < KILL_CYCLES; cycle++) {
      await new Promise((r) => setTimeout(r, 400 + rnd() * 1200));
      let open!: () => void;
      gate = new Promise((resolve) => (open = resolve));
      const exited = new Promise((r) => server.child.once('exit', r));
      server.child.kill('SIGKILL');
      trace(`cycle ${cycle}: killed`);
      const ackedAtKill = acknowledged();
      await exited;
      server = startServer(dataDir, port);
      base = await server.url;
      trace(`cycle ${cycle}: restarted`);
      const doc = (await (
        await fetch(`${base}/api/v1/maps/${mapId}/document`, {
          headers: { authorization: testAuthorization('alice', 't1') },
        })
      ).json()) as MapDocument;
      const stored = new Set(texts(doc));
      const lost = ackedAtKill.filter((t) => !stored.has(t));
      expect(lost, `cycle ${cycle}: acknowledged edits lost`).toEqual([]);
      checked += ackedAtKill.length;
      for (const t of ackedAtKill) verified.add(t);
      trace(`cycle ${cycle}: ${ackedAtKill.length} acknowledged, all stored; ${edits.length} edits so far`);
      open();
    }
    editing = false;
    await Promise.all(editors);
    trace('editing stopped');
    await eventually(() => clients.every((c) => c.status === 'online'));
    trace('all online');
    await Promise.all(clients.map((c) => c.whenSaved()));
    trace('all saved');

    const final = (await (
      await fetch(`${base}/api/v1/maps/${mapId}/document`, {
        headers: { authorization: testAuthorization('alice', 't1') },
      })
    ).json()) as MapDocument;
    const all = texts(final);
    const everyEdit = edits.map((e) => e.text);
    expect(everyEdit.filter((t) => !all.includes(t))).toEqual([]);
    const counts = new Map<string, number>();
    for (const t of all) counts.set(t, (counts.get(t) ?? 0) + 1);
    expect([...counts].filter(([, n]) => n > 1)).toEqual([]);
    await eventually(() => maps.every((m) => JSON.stringify(m.toJSON()) === JSON.stringify(final)));
    console.log(
      `crash test: ${KILL_CYCLES} kill cycles, ${verified.size} distinct acknowledged edits verified after restarts (${checked} checks), ${everyEdit.length} edits in the final document, none lost or duplicated`,
    );
    clients.forEach((c) => c.close());
    server.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }, 900_000);
});
