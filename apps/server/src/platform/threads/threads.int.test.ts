/**
 * `idleV8Threads` against what a real Node process's threads do: the threads it moves to SCHED_IDLE must be
 * the ones that run garbage collection, and libuv's pool (file system, argon2, the WAL's fdatasync) must keep
 * its priority. Fails when Node starts its threads in another order than the one `idleV8Threads` assumes.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SCHED_IDLE } from './index.ts';

const probe = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'thread-probe.ts');

interface Probe {
  outcome: { idled: number[] } | { skipped: string };
  threads: { tid: number; main: boolean; policy: number; gcMs: number; fsMs: number }[];
}

function run(nodeFlags: string[]): Probe {
  const out = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', probe], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`thread probe failed: ${out.stderr}`);
  return JSON.parse(out.stdout) as Probe;
}

function expectGcIdleAndLibuvNot({ outcome, threads }: Probe, poolSize: number) {
  expect(outcome).toHaveProperty('idled');
  const idled = 'idled' in outcome ? outcome.idled : [];
  expect(idled).toHaveLength(poolSize);
  const main = threads.find((t) => t.main);
  expect(main?.policy).toBe(0);
  const collectors = threads.filter((t) => !t.main && t.gcMs > 1);
  expect(collectors.length).toBeGreaterThan(0);
  for (const t of collectors) {
    expect(idled).toContain(t.tid);
    expect(t.policy).toBe(SCHED_IDLE);
  }
  const libuv = threads.filter((t) => !t.main && t.gcMs === 0 && t.fsMs > 0.01);
  expect(libuv.length).toBeGreaterThan(0);
  for (const t of libuv) {
    expect(idled).not.toContain(t.tid);
    expect(t.policy).toBe(0);
  }
  // Nothing else was touched.
  for (const t of threads) if (!idled.includes(t.tid)) expect(t.policy).toBe(0);
}

describe.skipIf(process.platform !== 'linux')("V8's worker threads at SCHED_IDLE", () => {
  it("moves Node's default pool of four, and not libuv's", () => {
    expectGcIdleAndLibuvNot(run([]), 4);
  });

  it('follows --v8-pool-size', () => {
    expectGcIdleAndLibuvNot(run(['--v8-pool-size=2']), 2);
  });
});
