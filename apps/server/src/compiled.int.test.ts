/**
 * The compiled server (scripts/build-server.mjs, what `npm start` runs), built into a temporary folder and run
 * by plain Node with no loader. Its tree holds no TypeScript, so a module the code still looked up as `.ts` (a
 * migration, a CLI command, a worker's entry) fails here rather than in production.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CollabClient } from '@canopy/sdk';
import { createTestDatabase, dialectsUnderTest } from './platform/db/testing.ts';
import { testAuthorization } from './modules/maps/index.ts';
import { eventually, NodeWebSocket } from './modules/collab/test-clients.ts';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const MIGRATIONS = join(repo, 'apps', 'server', 'src', 'migrations');

interface Started {
  child: ChildProcess;
  url: string;
  output: string[];
}

/** Runs a compiled entry with a fresh data folder; resolves with the URL it prints once listening. */
async function run(entry: string, args: string[], dataDir: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [entry, ...args], {
    env: {
      ...process.env,
      CANOPY_DATA_DIR: dataDir,
      CANOPY_PORT: '0',
      CANOPY_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const read = (d: Buffer) => {
      output.push(d.toString());
      const m = /(?:serving|URL) (http:\/\/\S+)/.exec(output.join(''));
      if (m?.[1]) resolve(m[1]);
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (code, signal) =>
      reject(new Error(`${entry} exited (${code ?? signal}) before listening:\n${output.join('')}`)),
    );
  });
  return { child, url, output } satisfies Started;
}

describe('the compiled server', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'canopy-compiled-'));
  const out = join(tmp, 'server');
  const bin = join(out, 'apps', 'server', 'bin', 'canopy.mjs');
  const running: ChildProcess[] = [];

  beforeAll(() => {
    const r = spawnSync(process.execPath, [join(repo, 'scripts', 'build-server.mjs'), '--out', out], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`build-server failed (${r.status}):\n${r.stdout}${r.stderr}`);
  }, 120_000);

  afterAll(async () => {
    for (const child of running) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }
    rmSync(tmp, { recursive: true, force: true });
  });

  it('holds JavaScript only, and its CLI has the same commands as the sources', () => {
    const typescript: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isSymbolicLink()) continue; // node_modules, the web app's build
        const p = join(dir, entry.name);
        if (entry.isDirectory()) walk(p);
        else if (/\.[cm]?ts$/.test(entry.name)) typescript.push(p);
      }
    };
    walk(out);
    expect(typescript).toEqual([]);

    const compiled = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    const source = spawnSync(
      process.execPath,
      [join(repo, 'apps', 'server', 'bin', 'canopy.mjs'), '--help'],
      {
        encoding: 'utf8',
      },
    );
    expect(compiled.status).toBe(0);
    expect(compiled.stdout).toContain('  serve ');
    expect(compiled.stdout).toBe(source.stdout);
  });

  it('migrates a fresh database with every migration and serves until SIGTERM', async () => {
    const dataDir = join(tmp, 'serve');
    const server = await run(bin, ['serve'], dataDir);
    running.push(server.child);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

    const db = new Database(join(dataDir, 'canopy.sqlite'), { readonly: true });
    const applied = db.prepare('SELECT name FROM kysely_migration ORDER BY name').pluck().all();
    db.close();
    const sources = readdirSync(MIGRATIONS)
      .filter((f) => /^\d{4}_[a-z0-9_]+\.ts$/.test(f))
      .map((f) => f.replace(/\.ts$/, ''))
      .sort();
    expect(sources.length).toBeGreaterThan(10);
    expect(applied).toEqual(sources);

    server.child.kill('SIGTERM');
    const [code] = (await once(server.child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });

  // The drivers are loaded when configured (platform/drivers.ts), from the compiled tree's links to them.
  const served = dialectsUnderTest().filter((d) => d !== 'sqlite');
  const redis = process.env.CANOPY_TEST_REDIS_URL;
  it.each(served)('serves on %s (and Redis, when the tests have one), its drivers found', async (dialect) => {
    const database = await createTestDatabase(dialect);
    try {
      const server = await run(bin, ['serve'], join(tmp, `serve-${dialect}`), {
        CANOPY_DATABASE_URL: database.url,
        ...(redis ? { CANOPY_REDIS_URL: redis } : {}),
      });
      running.push(server.child);
      const ready = await fetch(`${server.url}/readyz`);
      const body = (await ready.json()) as { checks: { name: string; ok: boolean }[] };
      expect(ready.status).toBe(200);
      expect(body.checks.map((c) => c.name)).toEqual(
        expect.arrayContaining(['database', ...(redis ? ['redis'] : [])]),
      );
      server.child.kill('SIGTERM');
      await once(server.child, 'exit');
    } finally {
      await database.drop();
    }
  });

  it('co-edits a map, its mirror thread running, up to a compaction', async () => {
    const server = await run(
      join(out, 'apps', 'server', 'src', 'modules', 'collab', 'crash-server.js'),
      [],
      join(tmp, 'collab'),
      { CANOPY_JOBS: 'true', CANOPY_TEST_COMPACT_AFTER: '40' },
    );
    running.push(server.child);
    const headers = { authorization: testAuthorization('alice', 't1'), 'content-type': 'application/json' };
    const created = await fetch(`${server.url}/api/v1/maps`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ title: 'Compiled' }),
    });
    expect(created.status).toBe(201);
    const mapId = ((await created.json()) as { id: string }).id;
    const client = new CollabClient({
      WebSocket: NodeWebSocket,
      url: async () => {
        const res = await fetch(`${server.url}/api/v1/maps/${mapId}/collab-ticket`, {
          method: 'POST',
          headers: { authorization: headers.authorization },
        });
        return server.url.replace(/^http/, 'ws') + ((await res.json()) as { url: string }).url;
      },
    });
    client.connect();
    const map = await client.whenLoaded();
    const root = map.toJSON().root.id;
    for (let i = 0; i < 120; i++) {
      map.addTopic(root, undefined, { text: `topic ${i}` });
      if (i % 10 === 9) await client.whenSaved();
    }
    await client.whenSaved();

    const metrics = async () =>
      (await fetch(`${server.url}/metrics`)).text().then((body) => body.split('\n'));
    const compactions = async () =>
      Number(
        (await metrics())
          .find((l) => l.startsWith('canopy_jobs_total{job="collab.compact",outcome="done"}'))
          ?.split(' ')[1] ?? 0,
      );
    await eventually(async () => (await compactions()) >= 1, 100);
    expect((await metrics()).filter((l) => l.startsWith('canopy_collab_mirror_thread_ends_total{'))).toEqual(
      [],
    );

    const doc = await fetch(`${server.url}/api/v1/maps/${mapId}/document`, { headers });
    const topics = ((await doc.json()) as { root: { children: unknown[] } }).root.children;
    expect(topics).toHaveLength(120);
    client.close();
    map.free();
  });
});
