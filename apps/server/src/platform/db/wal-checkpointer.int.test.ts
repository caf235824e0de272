import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteConnection } from './sqlite.ts';
import { WalCheckpointer } from './wal-checkpointer.ts';

describe('WalCheckpointer', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const database = () => {
    const dir = mkdtempSync(join(tmpdir(), 'canopy-checkpoint-'));
    dirs.push(dir);
    const file = join(dir, 'db.sqlite');
    const raw = openSqliteConnection(file);
    raw.exec('create table t (id integer primary key, data blob not null)');
    const insert = raw.prepare<[Buffer]>('insert into t (data) values (?)');
    /** `n` transactions of one 4 KiB row each: a couple of WAL frames each. */
    const write = (n: number) => {
      for (let i = 0; i < n; i++) insert.run(Buffer.alloc(4096, i % 251));
    };
    return { file, raw, write };
  };
  const autocheckpoint = (raw: ReturnType<typeof openSqliteConnection>) =>
    raw.pragma('wal_autocheckpoint', { simple: true });

  it('copies the WAL on its thread, after which the writer starts the WAL over', async () => {
    const { file, raw, write } = database();
    const checkpointer = new WalCheckpointer(file, raw, { intervalMs: 3_600_000, startAfterMs: 0 });
    // The commits no longer checkpoint by themselves at SQLite's 1,000 pages.
    expect(autocheckpoint(raw)).toBe(10_000);
    write(600);
    const first = await checkpointer.checkpoint();
    expect(first).toMatchObject({ ok: true, busy: false });
    if (!first.ok) throw new Error(first.error);
    expect(first.log).toBeGreaterThan(1_000);
    expect(first.checkpointed).toBe(first.log);
    // Everything was copied: the next transaction writes the WAL from its start, so it holds just that one.
    write(1);
    const second = await checkpointer.checkpoint();
    if (!second.ok) throw new Error(second.error);
    expect(second.log).toBeLessThan(10);
    expect(raw.prepare('select count(*) as n from t').get()).toEqual({ n: 601 });
    await checkpointer.close();
    expect(checkpointer.running).toBe(false);
    expect(autocheckpoint(raw)).toBe(1_000);
    raw.close();
  });

  it('checkpoints every intervalMs by itself', async () => {
    const { file, raw, write } = database();
    const checkpointer = new WalCheckpointer(file, raw, { intervalMs: 10, startAfterMs: 0 });
    write(600);
    await expect.poll(() => checkpointer.framesCopied, { timeout: 30_000 }).toBeGreaterThan(1_000);
    await checkpointer.close();
    raw.close();
  });

  it('starts its thread only after startAfterMs: a database opened for a moment starts none', async () => {
    const { file, raw } = database();
    const checkpointer = new WalCheckpointer(file, raw, { startAfterMs: 60_000 });
    expect(checkpointer.running).toBe(false);
    expect(autocheckpoint(raw)).toBe(1_000);
    await checkpointer.close();
    raw.close();
  });

  it('gives the checkpoint back to the connection when its thread cannot start, and says so', async () => {
    const { file, raw } = database();
    const errors: Error[] = [];
    const checkpointer = new WalCheckpointer(`${file}.missing`, raw, {
      startAfterMs: 0,
      onError: (err) => errors.push(err),
    });
    await expect.poll(() => checkpointer.running).toBe(false);
    expect(errors).toHaveLength(1);
    expect(autocheckpoint(raw)).toBe(1_000);
    expect(await checkpointer.checkpoint()).toMatchObject({ ok: false });
    await checkpointer.close();
    raw.close();
  });
});
