/**
 * Rooms' mirrors on a thread of their own (docs/protocol/collab.md R22): each room that has stored something
 * since it loaded sends its stored updates, in order, to a `MapMirror` there, and its compaction takes the
 * snapshot from the mirror instead of exporting one from the room's replica on the event loop. That export
 * (~10 ms at 12,000 operations), the replica's reload after it and the first state move after that reload
 * (~6-11 ms) were pauses of every edit's fan-out, once per compaction; the thread pays them, and keeps its
 * state current.
 *
 * A room's stored updates are held on the event loop and sent `MIRROR_BATCH` at a time, or all of them when
 * its compaction asks for the snapshot: one message instead of one per commit, and one state move on the
 * thread for the lot (`MapMirror.apply`: ~0.08 ms per keystroke at 256, against 0.16-0.3 one by one).
 * Session 8 measured the thread at ~0.3 ms of CPU per edit (50 clients, 250 edits/s) with one message per
 * commit. What a room holds is at most `MIRROR_BATCH` updates; they are also in its replica and in SQL.
 *
 * The thread starts with the first mirror. Messages keep their order, so a snapshot holds exactly the updates
 * applied before it was asked for. If the thread dies, its mirrors answer `undefined` from then on (rooms fold
 * as before); mirrors opened later start a new thread. A thread that falls `MAX_MIRROR_BACKLOG` updates behind
 * (a CPU kept busy by the event loop and everything else: it runs at nice 10) is ended the same way, rather
 * than let its queue of messages grow without bound. Either end is counted (`onEnd`, the app's metrics); a
 * room whose mirror ended opens another from the state its next fold takes from the replica (room-fold.ts).
 */
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { LoadedReplica } from '../maps/index.ts';
import { siblingModule } from '../../platform/module-form.ts';
import { startWorker } from '../../platform/threads/index.ts';

export type ToMirrorThread =
  | { kind: 'open'; key: number; snapshot: Uint8Array; updates: Uint8Array[] }
  | { kind: 'apply'; key: number; updates: Uint8Array[] }
  | { kind: 'snapshot'; key: number; id: number }
  | { kind: 'close'; key: number }
  | { kind: 'stop' };

export type FromMirrorThread =
  | { ready: true }
  /**
   * After an `open` or `apply`: how many updates it carried (the thread's backlog is counted down), and the size
   * of Loro's WebAssembly memory on the thread then.
   */
  | { applied: number; loroHeap: number }
  | { id: number; state: { snapshot: Uint8Array; title: string } | undefined };

export interface MirrorState {
  snapshot: Uint8Array;
  title: string;
}

/** A room's mirror. */
export interface RoomMirror {
  /** Updates the room has stored, or taken in from SQL, in that order (held, then sent in batches). */
  apply(updates: Uint8Array[]): void;
  /** The map as the mirror holds it once every update applied before this call is in; undefined if it cannot. */
  snapshot(): Promise<MirrorState | undefined>;
  /** Its thread ended (died, fell too far behind, or the mirrors closed): it answers nothing from now on. */
  readonly ended: boolean;
  close(): void;
}

/** Why a mirror thread ended before the mirrors closed: it fell too far behind, or it died. */
export type MirrorThreadEnd = 'overrun' | 'failed';

const ENTRY = siblingModule('mirror-thread', import.meta.url);

/** How many stored updates a room holds before it sends them to its mirror (see above). */
export const MIRROR_BATCH = 256;

/**
 * Updates sent to the thread and not applied yet past which the thread is ended (its mirrors answer nothing,
 * rooms fold without them, later mirrors start a new thread): ~10 MB of typing's updates, ~200 batches.
 */
export const MAX_MIRROR_BACKLOG = 50_000;

/**
 * The thread's nice value (Linux): its work (a batch of a room's updates, ~20 ms; a snapshot) can wait, the
 * event loop's cannot. Sent in batches, that work comes in bursts that took a core from the event loop (and
 * on the bench's 2 cores, from the load generator's receivers). Not SCHED_IDLE: a CPU kept busy would starve
 * the mirror, which would then be ended at `MAX_MIRROR_BACKLOG` again and again (README, session 16).
 */
export const MIRROR_NICE = 10;

interface Thread {
  worker: Worker;
  waiting: Map<number, (state: MirrorState | undefined) => void>;
  ended: boolean;
  /** Updates sent in `open` and `apply` messages that the thread has not said it applied. */
  backlog: number;
  /** The size of Loro's memory on the thread, as it last said. */
  loroHeap: number;
  end: (err: Error | undefined) => void;
}

export class MapMirrors {
  private thread: Thread | undefined;
  private nextKey = 1;
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly logger: Logger,
    private readonly maxBacklog = MAX_MIRROR_BACKLOG,
    /** Told when a thread ends before `close` (the app's metrics). */
    private readonly onEnd?: (reason: MirrorThreadEnd) => void,
  ) {}

  /** A mirror of the map as stored (its snapshot and the log after it), as the room loaded it. */
  open(snapshot: Uint8Array, updates: Uint8Array[]): RoomMirror {
    if (this.closed)
      return { apply: () => undefined, snapshot: async () => undefined, ended: true, close: () => undefined };
    const thread = this.started();
    const key = this.nextKey++;
    const post = (message: ToMirrorThread) => {
      if (thread.ended) return;
      thread.worker.postMessage(message);
      if (message.kind !== 'open' && message.kind !== 'apply') return;
      thread.backlog += message.updates.length;
      if (thread.backlog > this.maxBacklog) this.overrun(thread);
    };
    post({ kind: 'open', key, snapshot, updates });
    let held: Uint8Array[] = [];
    const send = () => {
      if (held.length === 0) return;
      post({ kind: 'apply', key, updates: held });
      held = [];
    };
    return {
      apply: (more) => {
        if (thread.ended) return;
        for (const update of more) held.push(update);
        if (held.length >= MIRROR_BATCH) send();
      },
      snapshot: () => {
        send();
        // Ended before, or by what `send` just added to its backlog.
        if (thread.ended) return Promise.resolve(undefined);
        return new Promise((resolve) => {
          const id = this.nextId++;
          thread.waiting.set(id, resolve);
          thread.worker.ref();
          post({ kind: 'snapshot', key, id });
        });
      },
      get ended() {
        return thread.ended;
      },
      close: () => {
        held = [];
        post({ kind: 'close', key });
      },
    };
  }

  /**
   * The size of Loro's WebAssembly memory on the running thread as it last said (after its last batch): the
   * mirrors of every active room. 0 while no thread runs; an ended thread's memory went with it.
   */
  get loroHeapSize(): number {
    const thread = this.thread;
    return thread && !thread.ended ? thread.loroHeap : 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    const thread = this.thread;
    if (!thread || thread.ended) return;
    const exited = new Promise<void>((resolve) => thread.worker.once('exit', () => resolve()));
    thread.worker.postMessage({ kind: 'stop' } satisfies ToMirrorThread);
    await exited;
  }

  /** The thread fell too far behind: ended as if it had died, and stopped (its queue freed with it). */
  private overrun(thread: Thread): void {
    this.logger.warn(
      { backlog: thread.backlog, maxBacklog: this.maxBacklog },
      'collab: the mirror thread fell behind; rooms fold without it, later mirrors start a new thread',
    );
    thread.end(undefined);
    this.onEnd?.('overrun');
    void thread.worker.terminate();
  }

  private started(): Thread {
    if (this.thread && !this.thread.ended) return this.thread;
    const worker = startWorker(ENTRY);
    worker.unref();
    const thread: Thread = {
      worker,
      waiting: new Map(),
      ended: false,
      backlog: 0,
      loroHeap: 0,
      end: (err) => {
        if (thread.ended) return;
        thread.ended = true;
        if (err && !this.closed) {
          this.logger.error({ err }, 'collab: the mirror thread failed; rooms fold without it');
          this.onEnd?.('failed');
        }
        for (const resolve of thread.waiting.values()) resolve(undefined);
        thread.waiting.clear();
      },
    };
    const end = thread.end;
    worker.on('message', (message: FromMirrorThread) => {
      if ('ready' in message) return;
      if ('applied' in message) {
        thread.backlog -= message.applied;
        thread.loroHeap = message.loroHeap;
        return;
      }
      const resolve = thread.waiting.get(message.id);
      thread.waiting.delete(message.id);
      if (thread.waiting.size === 0) worker.unref();
      resolve?.(message.state);
    });
    worker.on('error', (err) => end(err));
    worker.on('exit', (code) =>
      end(this.closed ? undefined : new Error(`the mirror thread exited (code ${code})`)),
    );
    this.thread = thread;
    return thread;
  }
}

/**
 * A room's way to its mirror: opened with the first update the room stores or takes in after loading (a room
 * that only serves its map costs the thread nothing), from the bytes the replica was loaded from. A replica
 * that migrated the map on loading holds operations those bytes lack: its mirror opens from the replica's own
 * log instead (an export on the event loop, and a replay on the thread, once).
 */
export class MirrorLink {
  private mirror: RoomMirror | undefined;
  private source: (() => { snapshot: Uint8Array; updates: Uint8Array[] }) | undefined;

  constructor(private readonly mirrors: MapMirrors | undefined) {}

  /** The replica the room now serves, as loaded from SQL (again, after a rebuild). */
  reset(loaded: LoadedReplica): void {
    this.mirror?.close();
    this.mirror = undefined;
    const { replica, stored } = loaded;
    this.source = !this.mirrors
      ? undefined
      : !replica.migrated
        ? () => stored
        : () => {
            const log = replica.exportUpdatesSince();
            if (!log.ok) throw log.error;
            return { snapshot: log.value, updates: [] };
          };
  }

  /** Updates now stored, or read from SQL, in that order. */
  apply(updates: Uint8Array[]): void {
    if (!this.mirror && this.source && this.mirrors) {
      const { snapshot, updates: after } = this.source();
      this.mirror = this.mirrors.open(snapshot, after);
      this.source = undefined;
    }
    this.mirror?.apply(updates);
  }

  /** Whether it was opened (the room has stored or taken in something since it loaded). */
  get opened(): boolean {
    return this.mirror !== undefined;
  }

  /** Whether it was opened and its thread has ended since: it answers nothing until `reopen`. */
  get lost(): boolean {
    return this.mirror?.ended === true;
  }

  /**
   * After its thread ended: the map as the room holds it now, every update of which is stored (the state a fold
   * took from an idle room's replica). Opens on a new thread with the next update the room stores, as after
   * loading.
   */
  reopen(stored: { snapshot: Uint8Array; updates: Uint8Array[] }): void {
    this.mirror?.close();
    this.mirror = undefined;
    this.source = this.mirrors ? () => stored : undefined;
  }

  snapshot(): Promise<MirrorState | undefined> {
    return this.mirror?.snapshot() ?? Promise.resolve(undefined);
  }

  close(): void {
    this.mirror?.close();
    this.mirror = undefined;
    this.source = undefined;
  }
}
