/**
 * Threads for background work, below the event loop's priority: worker threads (a map's mirror) started from
 * a TypeScript entry, and V8's own workers (`idleV8Threads`).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { isMainThread, Worker } from 'node:worker_threads';

/**
 * A worker running the TypeScript module at `entry` (with `workerData`). Its code needs tsx's loader, which a
 * worker does not inherit from the thread that started it.
 */
export function startTypeScriptWorker(entry: URL, workerData?: unknown): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(code, { eval: true, workerData });
}

/**
 * Lowers the calling thread's priority to `nice` (Linux: a nice value is per thread and `setpriority` takes a
 * thread's id; elsewhere it would lower the whole process, so it is done on Linux only). Call it from a worker.
 */
export function lowerThisThread(nice: number): void {
  if (process.platform !== 'linux') return;
  try {
    const tid = Number(readFileSync('/proc/thread-self/stat', 'utf8').split(' ', 1)[0]);
    if (Number.isInteger(tid) && tid !== process.pid) setPriority(tid, nice);
  } catch {
    // No /proc, or not allowed: the thread runs at the process's priority.
  }
}

/** Node's version whose threads' order `idleV8Threads` knows (the one this project runs on: package.json). */
const KNOWN_NODE_MAJOR = 20;
/** `--v8-pool-size`'s default in Node 20. */
const DEFAULT_V8_POOL_SIZE = 4;
/** Linux's scheduling policy number for SCHED_IDLE (`/proc/<tid>/stat`'s 41st field). */
export const SCHED_IDLE = 5;

export type IdleOutcome = { idled: number[] } | { skipped: string };

let v8Threads: IdleOutcome | undefined;

/**
 * Moves V8's worker threads (parallel scavenges, concurrent marking and sweeping, background compilation) to
 * Linux's SCHED_IDLE, once per process: they then run only on a CPU nothing else of normal priority wants,
 * and give it up as soon as something wakes there, instead of holding it for a scheduler slice (~3 ms, and
 * a nice value alone keeps that slice). Measured with the collab bench on 2 CPUs (modules/collab/README.md):
 * V8's four workers joined every scavenge and took both CPUs from the event loop's neighbours. What is lost
 * when every CPU is busy: the main thread then does that GC work itself, in its pauses.
 *
 * Node names none of its threads, so they are told apart by the order Node 20 starts them in: the main
 * thread, the inspector's signal thread, the platform's `--v8-pool-size` workers, its delayed-task thread,
 * then libuv's pool (file system, argon2, fdatasync: left as they are) and worker threads. Creation order is
 * thread id order, modulo the kernel's pid_max. Another Node major, a pool size Node picks (`0`), no `chrt`
 * (util-linux) or not Linux: nothing changes, and the outcome says why. `threads.int.test.ts` checks the
 * order against what the threads do.
 */
export function idleV8Threads(): IdleOutcome {
  v8Threads ??= idleV8ThreadsNow();
  return v8Threads;
}

function idleV8ThreadsNow(): IdleOutcome {
  if (process.platform !== 'linux') return { skipped: 'not Linux' };
  if (!isMainThread) return { skipped: 'not the main thread' };
  const major = Number(process.versions.node.split('.')[0]);
  if (major !== KNOWN_NODE_MAJOR) return { skipped: `thread order known for Node ${KNOWN_NODE_MAJOR} only` };
  const pool = v8PoolSize();
  if (pool === 0) return { skipped: 'V8 pool size left to Node (--v8-pool-size=0)' };
  const threads = threadsInCreationOrder();
  if (threads.length < pool + 2) return { skipped: 'fewer threads than Node starts' };
  const workers = threads.slice(2, 2 + pool);
  const idled: number[] = [];
  for (const tid of workers) {
    try {
      execFileSync('chrt', ['--idle', '--pid', '0', String(tid)], { stdio: 'ignore', timeout: 5_000 });
      idled.push(tid);
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      if (idled.length === 0) return { skipped: missing ? 'no chrt (util-linux)' : 'chrt failed' };
    }
  }
  return { idled };
}

/** `--v8-pool-size` as given to this process (flags or NODE_OPTIONS), else Node's default. */
function v8PoolSize(): number {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  let size = DEFAULT_V8_POOL_SIZE;
  for (const [i, flag] of flags.entries()) {
    const m = /^--v8[-_]pool[-_]size(?:=(\d+))?$/.exec(flag);
    if (m) size = Number(m[1] ?? flags[i + 1]);
  }
  return Number.isInteger(size) && size >= 0 ? size : DEFAULT_V8_POOL_SIZE;
}

/** This process's thread ids, the main thread's first, in the order they were started. */
export function threadsInCreationOrder(): number[] {
  const pid = process.pid;
  const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim()) || 4_194_304;
  const age = (tid: number) => (tid - pid + pidMax) % pidMax;
  return readdirSync('/proc/self/task')
    .map(Number)
    .filter((tid) => Number.isInteger(tid))
    .sort((a, b) => age(a) - age(b));
}

/** A thread's scheduling policy (0 normal, 5 SCHED_IDLE), from `/proc/self/task/<tid>/stat`. */
export function threadPolicy(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]);
}
