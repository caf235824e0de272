/**
 * The mirror thread (mirrors.ts): the two `MapMirror`s of each room that has admitted something since it
 * loaded (the checker, which checks the room's updates that are not typing; the stored copy, which its
 * compaction exports), kept from the updates its room sends. Messages are taken in turns: a turn handles
 * everything that queued while the last one ran, one room's consecutive batches for one copy as one.
 */
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { MapMirror } from '@canopy/model';
import { MIRROR_NICE, type FromMirrorThread, type ToMirrorThread } from './mirrors.ts';

if (!parentPort) throw new Error('mirror-thread.ts runs as a worker thread');
const port = parentPort;

// Below the event loop (MIRROR_NICE). On Linux a nice value is per thread and `setpriority` takes a thread's
// id; elsewhere it would lower the whole process, so it is done on Linux only.
if (process.platform === 'linux') {
  try {
    const tid = Number(readFileSync('/proc/thread-self/stat', 'utf8').split(' ', 1)[0]);
    if (Number.isInteger(tid) && tid !== process.pid) setPriority(tid, MIRROR_NICE);
  } catch {
    // No /proc, or not allowed: the thread runs at the process's priority.
  }
}
const mirrors = new Map<number, { checker: MapMirror; stored: MapMirror }>();

function drop(key: number): void {
  const copies = mirrors.get(key);
  copies?.checker.free();
  copies?.stored.free();
  mirrors.delete(key);
}
let queue: ToMirrorThread[] = [];

port.on('message', (message: ToMirrorThread) => {
  queue.push(message);
  if (queue.length === 1) setImmediate(turn);
});

function turn(): void {
  const messages = queue;
  queue = [];
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    if (message.kind !== 'apply') {
      handle(message);
      continue;
    }
    let { updates, fromElsewhere } = message;
    for (
      let next = messages[i + 1];
      next?.kind === 'apply' && next.key === message.key && next.copy === message.copy;
      next = messages[i + 1]
    ) {
      updates = updates.concat(next.updates);
      fromElsewhere ||= next.fromElsewhere;
      i++;
    }
    handle({ ...message, updates, fromElsewhere });
  }
}

function handle(message: ToMirrorThread): void {
  switch (message.kind) {
    case 'open':
      drop(message.key);
      try {
        mirrors.set(message.key, {
          checker: MapMirror.open(message.snapshot, message.updates),
          stored: MapMirror.open(message.snapshot, message.updates),
        });
      } catch {
        // Bytes the room loaded itself: cannot happen short of a bug. The room checks and folds without it.
        drop(message.key);
      }
      return;
    case 'apply':
      try {
        mirrors.get(message.key)?.[message.copy].apply(message.updates, message.fromElsewhere);
      } catch {
        // Typing the room admitted that the state cannot take (a bug of the typing check, never input to crash
        // on): the mirror is dropped, and the room's next check or snapshot gets no answer.
        drop(message.key);
      }
      return;
    case 'check': {
      let verdict;
      try {
        verdict = mirrors.get(message.key)?.checker.check(message.update);
      } catch {
        drop(message.key);
      }
      port.postMessage({ id: message.id, verdict } satisfies FromMirrorThread);
      return;
    }
    case 'snapshot': {
      const state = mirrors.get(message.key)?.stored.export();
      const reply: FromMirrorThread = { id: message.id, state };
      // Handed over, not copied, when the snapshot owns its whole buffer (never a view of Loro's memory).
      const bytes = state?.snapshot;
      const own = bytes && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      port.postMessage(reply, own ? [bytes.buffer as ArrayBuffer] : []);
      return;
    }
    case 'close':
      drop(message.key);
      return;
    case 'stop':
      for (const key of [...mirrors.keys()]) drop(key);
      port.close();
      return;
  }
}
port.postMessage({ ready: true } satisfies FromMirrorThread);
