/**
 * For `platform/threads/threads.int.test.ts`, run with tsx in a process of its own: finds out what each of
 * this process's threads does (which ones run garbage collection, which ones libuv's file system work),
 * then calls `idleV8Threads` and prints, as JSON, its outcome and each thread's policy and work.
 */
import { stat } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { idleV8Threads, threadPolicy, threadsInCreationOrder } from '../platform/threads/index.ts';

/** Nanoseconds each thread has run so far. */
const ran = (): Map<number, number> =>
  new Map(
    readdirSync('/proc/self/task').map((t) => [
      Number(t),
      Number(readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ')[0]),
    ]),
  );
const since = (before: Map<number, number>) => {
  const now = ran();
  return new Map([...now].map(([tid, ns]) => [tid, ns - (before.get(tid) ?? 0)]));
};

await readFile(new URL(import.meta.url)); // libuv's pool exists from here on

// Young garbage, nothing else: scavenges, which V8's workers help with.
let before = ran();
let keep: { i: number; s: string }[] = [];
for (let i = 0; i < 3_000_000; i++) {
  keep.push({ i, s: `x${i}` });
  if (keep.length > 20_000) keep = [];
}
const gc = since(before);

// File system calls with callbacks (little garbage): libuv's pool.
before = ran();
await Promise.all(
  Array.from(
    { length: 400 },
    () => new Promise<void>((resolve) => stat(import.meta.filename, () => resolve())),
  ),
);
const fs = since(before);

const outcome = idleV8Threads();
const threads = threadsInCreationOrder().map((tid) => ({
  tid,
  main: tid === process.pid,
  policy: threadPolicy(tid),
  gcMs: (gc.get(tid) ?? 0) / 1e6,
  fsMs: (fs.get(tid) ?? 0) / 1e6,
}));
console.log(JSON.stringify({ outcome, threads }));
