/**
 * Where a process's resident memory lies, from `/proc/<pid>/smaps` (Linux): the parts a soak's growth has been
 * found in, each a figure the process's own gauges do not show.
 *
 * - `malloc`: the main thread's glibc arena (`[heap]`): native allocations on the event loop's thread, SQLite's
 *   page cache first among them (session 20: +15 MB over 13 minutes, none with a 2 MiB cache);
 * - `wasm`: WebAssembly memories (a writable mapping followed by V8's guard reservation of gigabytes): pages of
 *   Loro's memory touched so far, at most `canopy_loro_heap_bytes` on the event loop's thread (a worker's
 *   instance has its own).
 */
import { readFileSync } from 'node:fs';

interface Mapping {
  start: number;
  end: number;
  perms: string;
  path: string;
  rss: number;
}

function mappings(pid: number): Mapping[] {
  const out: Mapping[] = [];
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      out.push({
        start: parseInt(header[1]!, 16),
        end: parseInt(header[2]!, 16),
        perms: header[3]!,
        path: header[4]!.trim(),
        rss: 0,
      });
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && out.length > 0) out.at(-1)!.rss = Number(rss[1]) * 1024;
  }
  return out;
}

/** V8 reserves at least this much address space behind a WebAssembly memory (its bounds checks' guard). */
const WASM_GUARD = 4 * 1024 ** 3;

/** Resident bytes of the main glibc arena and of WebAssembly memories. */
export function residentParts(pid: number): { malloc: number; wasm: number } {
  const all = mappings(pid);
  let malloc = 0;
  let wasm = 0;
  all.forEach((m, i) => {
    const next = all[i + 1];
    if (m.path === '[heap]') malloc += m.rss;
    else if (
      m.path === '' &&
      m.perms.startsWith('rw') &&
      next?.start === m.end &&
      next.perms === '---p' &&
      next.end - next.start >= WASM_GUARD
    )
      wasm += m.rss;
  });
  return { malloc, wasm };
}
