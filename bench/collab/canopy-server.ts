/**
 * Canopy's server as the collab benches run it: a real child process (`crash-server.ts`: the full app, the test
 * identity port, jobs on, compaction after 500 log entries) on SQLite in a fresh data directory or on a fresh
 * PostgreSQL database, and the HTTP calls that set up a map. It runs compiled, as `npm start` runs the server
 * (scripts/build-server.mjs, dist/server, built here when stale); `BENCH_COLLAB_FROM_SOURCE=1` runs it from the
 * TypeScript sources through tsx instead (how every bench before session 21 ran it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase } from '../../apps/server/src/platform/db/testing.ts';
import { cpuSeconds } from './yjs-peers.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const ENTRY = join('apps', 'server', 'src', 'modules', 'collab', 'crash-server');

/** Node's arguments that run the server: its compiled entry (compiled first if stale), or the source's. */
function serverArgs(): string[] {
  if (process.env.BENCH_COLLAB_FROM_SOURCE) return ['--import', 'tsx', join(repo, `${ENTRY}.ts`)];
  const built = spawnSync(process.execPath, [join(repo, 'scripts', 'build-server.mjs'), '--if-stale'], {
    stdio: 'inherit',
  });
  if (built.status !== 0) throw new Error('the server did not compile');
  return [join(repo, 'dist', 'server', `${ENTRY}.js`)];
}
/** The Node process among `pid`'s descendants (the server a wrapper started), or `pid` itself. */
function nodeUnder(pid: number): number {
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[0] === process.execPath) return p;
      const children = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim();
      if (children) queue.push(...children.split(' ').map(Number));
    } catch {
      // gone
    }
  }
  return pid;
}

export const auth = (who: string) => ({
  authorization: `Test ${who}@t1`,
  'content-type': 'application/json',
});

/** Canopy's server on `database` (`sqlite` in its data directory, or a fresh PostgreSQL database). */
export async function start(database: 'sqlite' | 'postgres') {
  const dataDir = mkdtempSync(join(tmpdir(), 'canopy-bench-collab-'));
  const pg = database === 'postgres' ? await createTestDatabase('postgres') : undefined;
  // BENCH_COLLAB_PROFILE=<dir>: the server writes a V8 CPU profile there when the run ends.
  const profile = process.env.BENCH_COLLAB_PROFILE;
  const args = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
  // BENCH_COLLAB_NODE_ARGS: node flags for Canopy's server only (e.g. V8's heap sizes), space-separated.
  args.push(...(process.env.BENCH_COLLAB_NODE_ARGS ?? '').split(' ').filter(Boolean));
  // BENCH_COLLAB_WRAP: a command the server runs under, space-separated (`heaptrack -o /tmp/canopy`, `taskset
  // -c 1`): started in a process group of its own, stopped with SIGTERM to the group, on which the server exits
  // so that the tool can write what it recorded. Memory and CPU figures are then read from the server itself.
  const wrap = (process.env.BENCH_COLLAB_WRAP ?? '').split(' ').filter(Boolean);
  const [command, ...prefix] = [...wrap, process.execPath];
  const child = spawn(command, [...prefix, ...args, ...serverArgs()], {
    detached: wrap.length > 0,
    env: {
      CANOPY_EXIT_ON_SIGTERM: profile || wrap.length > 0 ? '1' : '',
      ...process.env,
      CANOPY_DATA_DIR: dataDir,
      ...(pg ? { CANOPY_DATABASE_URL: pg.url } : {}),
      CANOPY_PORT: '0',
      CANOPY_JOBS: 'true',
      CANOPY_LOG_LEVEL: 'error',
      CANOPY_RATE_LIMIT_PER_MINUTE: '10000000',
      CANOPY_TEST_COMPACT_AFTER: '500',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /URL (\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
  });
  const pid = wrap.length > 0 ? nodeUnder(child.pid!) : child.pid!;
  const rss = () =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  return {
    url,
    pid,
    rss,
    cpu: () => cpuSeconds(pid),
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      // A profile or a wrapping tool is written on an orderly exit; otherwise the bench does not wait for one.
      if (wrap.length > 0) process.kill(-child.pid!, 'SIGTERM');
      else child.kill(profile ? 'SIGTERM' : 'SIGKILL');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
      await pg?.drop();
    },
  };
}

export async function createMap(
  base: string,
  title: string,
  editors: string[],
): Promise<{ id: string; snapshot: Uint8Array }> {
  const res = await fetch(`${base}/api/v1/maps`, {
    method: 'POST',
    headers: auth('u0'),
    body: JSON.stringify({ title }),
  });
  const { id } = (await res.json()) as { id: string };
  for (const who of editors) {
    await fetch(`${base}/api/v1/maps/${id}/shares`, {
      method: 'POST',
      headers: auth('u0'),
      body: JSON.stringify({ email: `${who}@t1`, role: 'editor' }),
    });
  }
  return { id, snapshot: new Uint8Array() };
}
