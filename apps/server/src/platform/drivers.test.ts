import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const src = join(import.meta.dirname, '..');
const DRIVERS = ['pg', 'mysql2', 'ioredis', 'nodemailer', '@aws-sdk/client-s3'];

/**
 * The packages under node_modules a fresh process has loaded once the whole app has started on `env`. A child
 * process of its own: a test worker's module cache holds what earlier test files loaded.
 */
async function loadedPackages(env: Record<string, string>): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'canopy-drivers-'));
  dirs.push(dir);
  const script = `
    import { createRequire } from 'node:module';
    const { loadConfig } = await import(${JSON.stringify(join(src, 'config.ts'))});
    const { createPlatform } = await import(${JSON.stringify(join(src, 'platform', 'index.ts'))});
    const { buildApp } = await import(${JSON.stringify(join(src, 'app.ts'))});
    const config = loadConfig({ ...process.env, CANOPY_DATA_DIR: ${JSON.stringify(dir)} });
    const app = await buildApp(config, { platform: await createPlatform(config) });
    await app.ready();
    console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));
    process.exit(0);`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    { env: { PATH: process.env.PATH ?? '', CANOPY_LOG_LEVEL: 'silent', ...env }, cwd: src },
  );
  const files = JSON.parse(stdout.trim().split('\n').at(-1)!) as string[];
  return DRIVERS.filter((name) => files.some((f) => f.includes(`/node_modules/${name}/`)));
}

describe('drivers', () => {
  it('a node on the embedded defaults loads none of the drivers it does not use', async () => {
    expect(await loadedPackages({})).toEqual([]);
  }, 60_000);

  it('a node loads the driver its configuration names', async () => {
    expect(
      await loadedPackages({
        CANOPY_SMTP_URL: 'smtp://127.0.0.1:2525',
        CANOPY_BLOB_URL: 's3://bucket?region=eu',
      }),
    ).toEqual(['nodemailer', '@aws-sdk/client-s3']);
  }, 60_000);
});
