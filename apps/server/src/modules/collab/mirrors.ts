/**
 * Rooms' mirrors on a thread of their own (docs/protocol/collab.md R9, R22). A room that has admitted something
 * since it loaded keeps two copies of its map there, each a `MapMirror`:
 *
 * - the checker: every update the room admits (and takes in from SQL), in that order. It holds the map's state,
 *   which the room's replica on the event loop no longer moves: it checks every update that is not typing
 *   (`check`, awaited by the room before it admits the update).
 * - the stored copy: every update the room has committed (and taken in from SQL), in that order; its
 *   compaction takes the snapshot from it (export ~10 ms at 12,000 operations), whatever waits for its commit.
 *
 * A room's updates are held on the event loop and sent in batches (`CHECKER_BATCH`, `MIRROR_BATCH`), or all
 * of them when a check (the checker's) or a snapshot (the stored copy's) is asked for: one state move on the
 * thread for the lot (`MapMirror.apply` on a map 50 people type into: 0.09 ms per keystroke at 64, 0.05 at
 * 256, against 0.3-0.4 one at a time, what the replica's own state moves cost on the event loop before session
 * 10). Sent one at a time, the thread's imports took about the CPU the event loop saved, on 2 cores that the
 * load generator shares. A check waits for the checker's held batch to be applied first (at most 64 updates,
 * ~6 ms), which only updates that are not typing pay, and only in a busy room.
 *
 * The thread starts with the first mirror. Messages keep their order, so a check or a snapshot sees exactly
 * the updates sent before it. If the thread dies, its mirrors answer `undefined` from then on (rooms check
 * on their own state again, and fold as before); mirrors opened later start a new thread.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { CheckVerdict } from '@canopy/model';
import type { LoadedReplica } from '../maps/index.ts';

/** Which of a room's two copies (see above). */
export type MirrorCopy = 'checker' | 'stored';

export type ToMirrorThread =
  | { kind: 'open'; key: number; snapshot: Uint8Array; updates: Uint8Array[] }
  /** `fromElsewhere`: stored by another node (it may create topics); else what the room admitted or stored. */
  | { kind: 'apply'; key: number; copy: MirrorCopy; updates: Uint8Array[]; fromElsewhere: boolean }
  | { kind: 'check'; key: number; id: number; update: Uint8Array }
  | { kind: 'snapshot'; key: number; id: number }
  | { kind: 'close'; key: number }
  | { kind: 'stop' };

export type FromMirrorThread =
  | { ready: true }
  | { id: number; state: { snapshot: Uint8Array; title: string } | undefined }
  | { id: number; verdict: CheckVerdict | undefined };

export interface MirrorState {
  snapshot: Uint8Array;
  title: string;
}

/** A room's mirror: its two copies on the thread. */
export interface RoomMirror {
  /** Updates the room has admitted as typing, or (`fromElsewhere`) taken in from SQL, in that order. */
  admit(updates: Uint8Array[], fromElsewhere?: boolean): void;
  /** Updates the room has committed, or taken in from SQL, in that order. */
  store(updates: Uint8Array[]): void;
  /**
   * The checker imports `update` (not typing) after every update admitted before it and checks the state it
   * leads to; a refused one leaves it as it was. Undefined if the mirror cannot answer (its thread is gone).
   */
  check(update: Uint8Array): Promise<CheckVerdict | undefined>;
  /** The map as stored once every update stored before this call is in; undefined if it cannot say. */
  snapshot(): Promise<MirrorState | undefined>;
  close(): void;
}

const ENTRY = new URL('./mirror-thread.ts', import.meta.url);

/** How many committed updates a room holds before it sends them to its stored copy (see above). */
export const MIRROR_BATCH = 256;
/** How many admitted updates a room holds before it sends them to its checker: a check waits for them. */
export const CHECKER_BATCH = 64;

/**
 * The thread's nice value (Linux): its work (a batch of a room's updates, ~20 ms; a snapshot) can wait, the
 * event loop's cannot. That work comes in bursts that took a core from the event loop (and on the bench's 2
 * cores, from the load generator's receivers). Only updates that are not typing wait for it (their check).
 */
export const MIRROR_NICE = 10;

interface Thread {
  worker: Worker;
  /** Answers awaited, by request id: undefined when the thread ended first. */
  waiting: Map<number, (reply: FromMirrorThread | undefined) => void>;
  ended: boolean;
}

export class MapMirrors {
  private thread: Thread | undefined;
  private nextKey = 1;
  private nextId = 1;
  private closed = false;

  constructor(private readonly logger: Logger) {}

  /** A mirror of the map as stored (its snapshot and the log after it), as the room loaded it. */
  open(snapshot: Uint8Array, updates: Uint8Array[]): RoomMirror {
    if (this.closed)
      return {
        admit: () => undefined,
        store: () => undefined,
        check: async () => undefined,
        snapshot: async () => undefined,
        close: () => undefined,
      };
    const thread = this.started();
    const key = this.nextKey++;
    const post = (message: ToMirrorThread) => {
      if (!thread.ended) thread.worker.postMessage(message);
    };
    const ask = (message: (id: number) => ToMirrorThread) =>
      new Promise<FromMirrorThread | undefined>((resolve) => {
        if (thread.ended) return resolve(undefined);
        const id = this.nextId++;
        thread.waiting.set(id, resolve);
        thread.worker.ref();
        post(message(id));
      });
    post({ kind: 'open', key, snapshot, updates });
    const held = (copy: MirrorCopy, batch: number) => {
      let updates: Uint8Array[] = [];
      let fromElsewhere = false;
      const send = () => {
        if (updates.length === 0) return;
        post({ kind: 'apply', key, copy, updates, fromElsewhere });
        updates = [];
        fromElsewhere = false;
      };
      return {
        send,
        add: (more: Uint8Array[], elsewhere: boolean) => {
          if (thread.ended) return;
          for (const update of more) updates.push(update);
          fromElsewhere ||= elsewhere;
          if (updates.length >= batch) send();
        },
        drop: () => (updates = []),
      };
    };
    const checker = held('checker', CHECKER_BATCH);
    const stored = held('stored', MIRROR_BATCH);
    return {
      admit: (more, fromElsewhere = false) => checker.add(more, fromElsewhere),
      store: (more) => stored.add(more, false),
      check: async (update) => {
        checker.send();
        const reply = await ask((id) => ({ kind: 'check', key, id, update }));
        return reply && 'verdict' in reply ? reply.verdict : undefined;
      },
      snapshot: async () => {
        stored.send();
        const reply = await ask((id) => ({ kind: 'snapshot', key, id }));
        return reply && 'state' in reply ? reply.state : undefined;
      },
      close: () => {
        checker.drop();
        stored.drop();
        post({ kind: 'close', key });
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const thread = this.thread;
    if (!thread || thread.ended) return;
    const exited = new Promise<void>((resolve) => thread.worker.once('exit', () => resolve()));
    thread.worker.postMessage({ kind: 'stop' } satisfies ToMirrorThread);
    await exited;
  }

  private started(): Thread {
    if (this.thread && !this.thread.ended) return this.thread;
    // A TypeScript entry needs tsx's loader, which a worker does not inherit from the thread that started it.
    const tsx = import.meta.resolve('tsx/esm/api');
    const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(ENTRY.href)}); });`;
    const worker = new Worker(code, { eval: true });
    worker.unref();
    const thread: Thread = { worker, waiting: new Map(), ended: false };
    const end = (err: Error | undefined) => {
      if (thread.ended) return;
      thread.ended = true;
      if (err && !this.closed)
        this.logger.error({ err }, 'collab: the mirror thread failed; rooms fold without it');
      for (const resolve of thread.waiting.values()) resolve(undefined);
      thread.waiting.clear();
    };
    worker.on('message', (message: FromMirrorThread) => {
      if ('ready' in message) return;
      const resolve = thread.waiting.get(message.id);
      thread.waiting.delete(message.id);
      if (thread.waiting.size === 0) worker.unref();
      resolve?.(message);
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
 * A room's way to its mirror: opened with the first update the room admits or takes in after loading (a room
 * that only serves its map costs the thread nothing), from the bytes the replica was loaded from. A replica
 * that migrated the map on loading holds operations those bytes lack: its mirror opens from the replica's own
 * log instead (an export on the event loop, and a replay on the thread, once).
 */
export class MirrorLink {
  private mirror: RoomMirror | undefined;
  private source: (() => { snapshot: Uint8Array; updates: Uint8Array[] }) | undefined;

  constructor(private mirrors: MapMirrors | undefined) {}

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

  /** Whether the room has a mirror thread to check its updates (`ServerReplica.deferChecks`). */
  get checks(): boolean {
    return this.mirrors !== undefined;
  }

  private opening(): RoomMirror | undefined {
    if (!this.mirror && this.source && this.mirrors) {
      const { snapshot, updates: after } = this.source();
      this.mirror = this.mirrors.open(snapshot, after);
      this.source = undefined;
    }
    return this.mirror;
  }

  /** Updates admitted as typing, or (`fromElsewhere`) read from SQL, in that order (the checker's). */
  admit(updates: Uint8Array[], fromElsewhere = false): void {
    this.opening()?.admit(updates, fromElsewhere);
  }

  /** Updates committed, or read from SQL, in that order (the stored copy's). */
  store(updates: Uint8Array[]): void {
    this.opening()?.store(updates);
  }

  /** `RoomMirror.check`; undefined without a mirror. */
  check(update: Uint8Array): Promise<CheckVerdict | undefined> {
    return this.opening()?.check(update) ?? Promise.resolve(undefined);
  }

  /** Whether it was opened (the room has admitted or taken in something since it loaded). */
  get opened(): boolean {
    return this.mirror !== undefined;
  }

  snapshot(): Promise<MirrorState | undefined> {
    return this.mirror?.snapshot() ?? Promise.resolve(undefined);
  }

  close(): void {
    this.mirror?.close();
    this.mirror = undefined;
    this.source = undefined;
  }

  /** No mirror from now on (its thread failed): the room checks and folds on its own. */
  disable(): void {
    this.close();
    this.mirrors = undefined;
  }
}
