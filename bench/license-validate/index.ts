// `npm run bench license-validate`: autocannon against Canopy's `POST /api/v1/licenses/validate` (a verified user
// with a seat and a machine, a fresh nonce on every request, so every answer is signed anew) and, in the same
// run, against a bare Fastify route returning a constant; on SQLite and on PostgreSQL. Prints requests/s for
// both, their ratio, Canopy's p99 latency at 50 connections, and the server's CPU time per answer (the figure
// least moved by other processes on the machine). Goal: ratio >= 0.5, p99 <= 10 ms.
//
// Loopback only. Options (environment): BENCH_SECONDS (default 10), BENCH_CONNECTIONS (50),
// BENCH_POSTGRES_URL (default postgres://canopy@127.0.0.1:5432/postgres; a role that may CREATE DATABASE),
// BENCH_DIALECTS (default sqlite,postgres), BENCH_PROFILE (a directory: the server writes there a V8 CPU profile
// of the measured Canopy run, `<dialect>.cpuprofile`; summarise it with
// `npx tsx bench/license-validate/profile-summary.ts <file>`).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import { openDatabase } from '../../apps/server/src/platform/db/connect.ts';

const here = dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const PG = process.env.BENCH_POSTGRES_URL ?? 'postgres://canopy@127.0.0.1:5432/postgres';
const DIALECTS = (process.env.BENCH_DIALECTS ?? 'sqlite,postgres').split(',').map((s) => s.trim());
const GOAL = { ratio: 0.5, p99Ms: 10 };

interface Result {
  rps: number;
  p99: number;
  p50: number;
  errors: number;
  non2xx: number;
  requests: number;
}

async function load(url: string, token: string | undefined, seconds: number): Promise<Result> {
  const body = (nonce: string) =>
    JSON.stringify({ product: 'desktop-windows', fingerprint: 'bench-pc', nonce });
  const r = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    requests: [{ setupRequest: (req) => ({ ...req, body: body(randomBytes(12).toString('base64url')) }) }],
  });
  return {
    rps: r.requests.average,
    p99: r.latency.p99,
    p50: r.latency.p50,
    errors: r.errors,
    non2xx: r.non2xx,
    requests: r.requests.total,
  };
}

/** Two measurements of one target as one: requests/s over both, the worse p50/p99, the sums. */
function combine<R extends Result & { cpuUs: number }>(a: R, b: R) {
  return {
    rps: (a.rps + b.rps) / 2,
    p50: Math.max(a.p50, b.p50),
    p99: Math.max(a.p99, b.p99),
    errors: a.errors + b.errors,
    non2xx: a.non2xx + b.non2xx,
    requests: a.requests + b.requests,
    cpuUs: a.cpuUs + b.cpuUs,
  };
}

async function prepare(dialect: string): Promise<{ url: string | undefined; drop: () => Promise<void> }> {
  if (dialect === 'sqlite') return { url: undefined, drop: async () => {} };
  const name = `canopy_bench_${randomBytes(5).toString('hex')}`;
  const admin = openDatabase(PG, { poolSize: 1 });
  await sql`create database ${sql.id(name)}`.execute(admin.db);
  await admin.close();
  const url = new URL(PG);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const again = openDatabase(PG, { poolSize: 1 });
      await sql`drop database if exists ${sql.id(name)}`.execute(again.db);
      await again.close();
    },
  };
}

async function run(dialect: string) {
  const db = await prepare(dialect);
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'server.ts')], {
    env: { ...process.env, ...(db.url ? { CANOPY_DATABASE_URL: db.url } : {}) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    const lines = createInterface({ input: child.stdout });
    const [first] = (await Promise.race([
      once(lines, 'line'),
      once(child, 'exit').then(() => {
        throw new Error('the bench server exited during setup');
      }),
    ])) as [string];
    const { canopy, bare, token } = JSON.parse(first) as { canopy: string; bare: string; token: string };
    // Warm both (JIT, pools, caches), then measure the bare route and Canopy back to back.
    await load(`${bare}/constant`, undefined, 2);
    await load(`${canopy}/api/v1/licenses/validate`, token, 2);
    // The server's own CPU time per answer: unlike req/s, it hardly moves when other processes share the cores.
    const cpu = async () => {
      child.stdin.write('cpu\n');
      const [line] = (await once(lines, 'line')) as [string];
      const { user, system } = JSON.parse(line) as { user: number; system: number };
      return user + system;
    };
    const measure = async (url: string, bearer: string | undefined, seconds: number) => {
      const before = await cpu();
      const r = await load(url, bearer, seconds);
      return { ...r, cpuUs: (await cpu()) - before };
    };
    // Half the time each, in the order bare, Canopy, Canopy, bare: a load that other processes put on the shared
    // cores and that drifts during the run weighs on both targets alike. p99 is the worse half's.
    const half = SECONDS / 2;
    const bareUrl = `${bare}/constant`;
    const canopyUrl = `${canopy}/api/v1/licenses/validate`;
    const b1 = await measure(bareUrl, undefined, half);
    const profile = process.env.BENCH_PROFILE;
    if (profile) child.stdin.write(`profile ${join(profile, `${dialect}.cpuprofile`)}\n`);
    const c1 = await measure(canopyUrl, token, half);
    const c2 = await measure(canopyUrl, token, half);
    if (profile) child.stdin.write('stop\n');
    const b2 = await measure(bareUrl, undefined, half);
    const b = combine(b1, b2);
    const c = combine(c1, c2);
    const ratio = c.rps / b.rps;
    const perAnswer = (r: { cpuUs: number; requests: number }) => (r.cpuUs / r.requests).toFixed(0);
    console.log(
      `${dialect.padEnd(8)} bare ${b.rps.toFixed(0).padStart(6)} req/s | canopy ${c.rps.toFixed(0).padStart(6)} req/s` +
        ` | ratio ${ratio.toFixed(2)} (goal >= ${GOAL.ratio}) | canopy p50 ${c.p50} ms, p99 ${c.p99} ms (goal <= ${GOAL.p99Ms})` +
        ` | bare p99 ${b.p99} ms | server CPU per answer: bare ${perAnswer(b)} µs, canopy ${perAnswer(c)} µs` +
        (c.errors || c.non2xx ? ` | errors ${c.errors}, non-2xx ${c.non2xx}` : ''),
    );
    return {
      dialect,
      ratio,
      p99: c.p99,
      ok: ratio >= GOAL.ratio && c.p99 <= GOAL.p99Ms && !c.errors && !c.non2xx,
    };
  } finally {
    child.stdin.end();
    await once(child, 'exit');
    await db.drop();
  }
}

console.log(
  `license-validate: ${CONNECTIONS} connections, ${SECONDS} s per target, loopback only; ` +
    `${cpus().length} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
);
const results = [];
for (const dialect of DIALECTS) results.push(await run(dialect));
const missed = results.filter((r) => !r.ok).map((r) => r.dialect);
console.log(missed.length ? `goal missed on: ${missed.join(', ')}` : 'goal met on every dialect');
