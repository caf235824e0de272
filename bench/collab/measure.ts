/** Measuring helpers of the collab bench: percentiles and the disk's commit latency. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/**
 * The disk's commit latency right now (200 one-row SQLite commits, WAL, synchronous=FULL, in the data
 * directory's file system): Canopy's durable acks wait for it, the in-memory peers do not, and other work
 * on the machine moves it a lot, so it is printed beside the figures.
 */
export function fsyncProbe(): string {
  const dir = mkdtempSync(join(tmpdir(), 'canopy-bench-fsync-'));
  const db = new Database(join(dir, 'probe.sqlite'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('create table t (b blob)');
    const insert = db.prepare('insert into t (b) values (?)');
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      db.transaction(() => insert.run(Buffer.alloc(200)))();
      times.push(performance.now() - t);
    }
    return `disk: SQLite commit (fsync) p50 ${pct(times, 50).toFixed(2)} ms, p99 ${pct(times, 99).toFixed(2)} ms`;
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
