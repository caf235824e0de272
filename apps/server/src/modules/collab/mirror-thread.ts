/**
 * The mirror thread (mirrors.ts): the `MapMirror` of each room that has stored something since it loaded,
 * kept from the updates its room sends, and exported when the room's compaction asks.
 */
import { parentPort } from 'node:worker_threads';
import { loroHeapSize, MapMirror } from '@canopy/model';
import { lowerThisThread } from '../../platform/threads/index.ts';
import { MIRROR_NICE, type FromMirrorThread, type ToMirrorThread } from './mirrors.ts';

const port = parentPort;
if (!port) throw new Error('mirror-thread.ts runs as a worker thread');

// Below the event loop (MIRROR_NICE).
lowerThisThread(MIRROR_NICE);
const mirrors = new Map<number, MapMirror>();
/**
 * Tells the event loop the thread is done with a message's updates (its backlog, mirrors.ts), and how large
 * Loro's memory on this thread now is (`canopy_collab_mirror_loro_heap_bytes`).
 */
const applied = (count: number) =>
  port.postMessage({ applied: count, loroHeap: loroHeapSize() ?? 0 } satisfies FromMirrorThread);

port.on('message', (message: ToMirrorThread) => {
  switch (message.kind) {
    case 'open':
      mirrors.get(message.key)?.free();
      try {
        mirrors.set(message.key, MapMirror.open(message.snapshot, message.updates));
      } catch {
        // Bytes the room loaded itself: cannot happen short of a bug. The room folds without its mirror.
        mirrors.delete(message.key);
      }
      applied(message.updates.length);
      return;
    case 'apply':
      try {
        mirrors.get(message.key)?.apply(message.updates);
      } catch {
        mirrors.get(message.key)?.free();
        mirrors.delete(message.key);
      }
      applied(message.updates.length);
      return;
    case 'snapshot': {
      const state = mirrors.get(message.key)?.export();
      const reply: FromMirrorThread = { id: message.id, state };
      // Handed over, not copied, when the snapshot owns its whole buffer (never a view of Loro's memory).
      const bytes = state?.snapshot;
      const own = bytes && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      port.postMessage(reply, own ? [bytes.buffer as ArrayBuffer] : []);
      return;
    }
    case 'close':
      mirrors.get(message.key)?.free();
      mirrors.delete(message.key);
      return;
    case 'stop':
      for (const mirror of mirrors.values()) mirror.free();
      mirrors.clear();
      port.close();
      return;
  }
});
port.postMessage({ ready: true } satisfies FromMirrorThread);
