import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

function startServer() {
  const dataDir = mkdtempSync(join(tmpdir(), 'canopy-sigterm-'));
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'test', 'slow-server.ts')], {
    env: { ...process.env, CANOPY_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /URL (\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`server exited early (${code}): ${stderr}`)));
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      rmSync(dataDir, { recursive: true, force: true });
      resolve(code);
    }),
  );
  return { child, url, exited };
}

describe('graceful shutdown', () => {
  it('finishes requests in flight on SIGTERM, refuses new ones, and exits 0', async () => {
    const server = startServer();
    const url = await server.url;
    const inFlight = [fetch(`${url}/slow`), fetch(`${url}/slow`)];
    await new Promise((r) => setTimeout(r, 300)); // both requests are being handled
    server.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    const late = await fetch(`${url}/healthz`).then(
      (res) => res.status,
      () => 'refused' as const,
    );
    const answers = await Promise.all(inFlight.map(async (p) => (await p).json()));
    expect(answers).toEqual([{ finished: true }, { finished: true }]);
    expect([503, 'refused']).toContain(late);
    expect(await server.exited).toBe(0);
  });
});
