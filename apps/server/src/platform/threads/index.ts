/**
 * Worker threads for background work (a map's mirror): started from a module of the server's (TypeScript from
 * the sources, JavaScript compiled: `platform/module-form.ts`), and below the event loop's priority.
 */
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * A worker running the module at `entry` (with `workerData`). A TypeScript entry needs tsx's loader, which a
 * worker does not inherit from the thread that started it; a compiled one starts as it is.
 */
export function startWorker(entry: URL, workerData?: unknown): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData });
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
