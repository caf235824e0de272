/**
 * The SQLite checkpoint's thread (wal-checkpointer.ts): its own connection to the database file, and a PASSIVE
 * checkpoint every `intervalMs`, or when asked. Plain JavaScript, so the worker needs no TypeScript loader: a
 * worker with tsx's took ~29 MB of memory, this one ~10 MB. Its messages are typed in wal-checkpointer.ts.
 */
import { clearInterval, setInterval } from 'node:timers';
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';

const port = parentPort;
if (!port) throw new Error('wal-checkpoint-thread.mjs runs as a worker thread');
/** @type {{ file: string; intervalMs: number }} */
const { file, intervalMs } = workerData;

// No busy timeout: a PASSIVE checkpoint takes no lock it would wait for.
const raw = new SQLite(file, { fileMustExist: true, timeout: 0 });
// A checkpoint syncs the WAL before it copies it and the database file after (in WAL mode at NORMAL too).
raw.pragma('synchronous = NORMAL');
// This connection never writes, so it never checkpoints on its own account either.
raw.pragma('wal_autocheckpoint = 0');

/** A `CheckpointResult` (wal-checkpointer.ts). */
function checkpoint() {
  try {
    const [row] = raw.pragma('wal_checkpoint(PASSIVE)');
    return { ok: true, busy: row?.busy === 1, log: row?.log ?? 0, checkpointed: row?.checkpointed ?? 0 };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Whether the last checkpoint failed: a failure is reported once, not every `intervalMs` while it lasts. */
let failing = false;
const timer = setInterval(() => {
  const result = checkpoint();
  if (!result.ok && !failing) port.postMessage({ failed: result.error });
  failing = !result.ok;
  if (result.ok && result.checkpointed > 0) port.postMessage({ copied: result.checkpointed });
}, intervalMs);

port.on('message', (message) => {
  if (message.kind === 'checkpoint') {
    port.postMessage({ id: message.id, result: checkpoint() });
    return;
  }
  clearInterval(timer);
  raw.close();
  port.close();
});
port.postMessage({ ready: true });
