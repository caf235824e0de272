/**
 * The SQLite checkpoint's thread (wal-checkpointer.ts): its own connection to the database file, and a PASSIVE
 * checkpoint every `intervalMs`, or when asked.
 */
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { lowerThisThread } from '../threads/index.ts';
import type { CheckpointResult, FromCheckpointThread, ToCheckpointThread } from './wal-checkpointer.ts';

const port = parentPort;
if (!port) throw new Error('wal-checkpoint-thread.ts runs as a worker thread');
const { file, intervalMs, nice } = workerData as { file: string; intervalMs: number; nice: number };

lowerThisThread(nice);
// No busy timeout: a PASSIVE checkpoint takes no lock it would wait for.
const raw = new SQLite(file, { fileMustExist: true, timeout: 0 });
// A checkpoint syncs the WAL before it copies it and the database file after (in WAL mode at NORMAL too).
raw.pragma('synchronous = NORMAL');
// This connection never writes, so it never checkpoints on its own account either.
raw.pragma('wal_autocheckpoint = 0');

function checkpoint(): CheckpointResult {
  try {
    const [row] = raw.pragma('wal_checkpoint(PASSIVE)') as {
      busy: number;
      log: number;
      checkpointed: number;
    }[];
    return { ok: true, busy: row?.busy === 1, log: row?.log ?? 0, checkpointed: row?.checkpointed ?? 0 };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Whether the last checkpoint failed: a failure is reported once, not every `intervalMs` while it lasts. */
let failing = false;
const timer = setInterval(() => {
  const result = checkpoint();
  if (!result.ok && !failing) port.postMessage({ failed: result.error } satisfies FromCheckpointThread);
  failing = !result.ok;
  if (result.ok && result.checkpointed > 0)
    port.postMessage({ copied: result.checkpointed } satisfies FromCheckpointThread);
}, intervalMs);

port.on('message', (message: ToCheckpointThread) => {
  if (message.kind === 'checkpoint') {
    port.postMessage({ id: message.id, result: checkpoint() } satisfies FromCheckpointThread);
    return;
  }
  clearInterval(timer);
  raw.close();
  port.close();
});
port.postMessage({ ready: true } satisfies FromCheckpointThread);
