/**
 * This browser's copies of open maps, in IndexedDB, so that edits made offline survive a reload or a closed tab:
 * the replica's snapshot per account and map, and whether it held edits the server had not yet stored. Plain
 * bytes: this module does not import the model (the sign-out button clears the copies without loading Loro).
 *
 * Bounded: a copy larger than `maxCopyBytes` is not kept, and past `maxTotalBytes` the least recently written
 * copies without unsent edits are dropped. When the browser refuses (quota, private mode, no IndexedDB) the write
 * rejects with `LocalCopyRefused`, whose message the page shows.
 */

export interface LocalCopy {
  /** `MindMap.exportSnapshot()` of the replica. */
  readonly snapshot: Uint8Array;
  /** The snapshot holds edits the server had not acknowledged when it was written. */
  readonly pending: boolean;
  /** The person's role when it was written, so that an offline reopen knows whether they may edit. */
  readonly role: 'viewer' | 'editor' | 'owner' | undefined;
  readonly savedAt: number;
  /**
   * The page session that wrote it (a tab, or its successor that opened from this copy). Another tab's copy of
   * the same map never replaces one whose edits have not reached the server with one that has none.
   */
  readonly writer: string;
}

/** Why no copy could be kept: `tooLarge` (our bound) or `refused` (the browser's quota, or no storage). */
export class LocalCopyRefused extends Error {
  constructor(readonly reason: 'tooLarge' | 'refused') {
    super(
      reason === 'tooLarge'
        ? 'This map is too large to keep a copy in this browser: edits made offline are kept only while this tab is open.'
        : 'This browser did not let Canopy keep a copy of the map (storage full or blocked): edits made offline are kept only while this tab is open.',
    );
    this.name = 'LocalCopyRefused';
  }
}

export interface LocalCopyStore {
  read(accountId: string, mapId: string): Promise<LocalCopy | undefined>;
  /** Rejects with LocalCopyRefused when the copy cannot be kept. */
  write(accountId: string, mapId: string, copy: LocalCopy): Promise<void>;
  /**
   * Marks the stored copy as fully saved (the server acknowledged everything in it), without rewriting it; only
   * if `writer` wrote it.
   */
  markSaved(accountId: string, mapId: string, writer: string): Promise<void>;
  /** Forgets one copy (the map no longer exists). */
  remove(accountId: string, mapId: string): Promise<void>;
  /** Every copy of every account (sign-out). */
  clear(): Promise<void>;
}

export interface LocalCopyLimits {
  readonly maxCopyBytes: number;
  readonly maxTotalBytes: number;
}

export const DEFAULT_LIMITS: LocalCopyLimits = {
  maxCopyBytes: 20 * 1024 * 1024,
  maxTotalBytes: 100 * 1024 * 1024,
};

const DB_NAME = 'canopy-local-copies';
/** key → CopyMeta (small: read in full to enforce the bound). */
const META = 'meta';
/** key → snapshot bytes. */
const SNAPSHOTS = 'snapshots';

interface CopyMeta {
  readonly key: string;
  readonly bytes: number;
  readonly pending: boolean;
  readonly role: LocalCopy['role'];
  readonly savedAt: number;
  /** Absent in copies kept before writers were recorded: any session may replace those. */
  readonly writer?: string;
}

const keyOf = (accountId: string, mapId: string) => `${accountId}\u0000${mapId}`;

/** The copies in `factory` (the browser's `indexedDB` by default; fake-indexeddb in tests). */
export function indexedDbCopies(
  factory: IDBFactory | undefined = globalThis.indexedDB,
  limits: LocalCopyLimits = DEFAULT_LIMITS,
): LocalCopyStore {
  let opened: Promise<IDBDatabase> | undefined;
  const db = (): Promise<IDBDatabase> => {
    if (!factory) return Promise.reject(new LocalCopyRefused('refused'));
    opened ??= new Promise<IDBDatabase>((resolve, reject) => {
      const request = factory.open(DB_NAME, 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore(META, { keyPath: 'key' });
        request.result.createObjectStore(SNAPSHOTS);
      };
      request.onsuccess = () => {
        const database = request.result;
        // Another tab deleting or upgrading the database: let it, and reopen on the next call.
        database.onversionchange = () => {
          database.close();
          opened = undefined;
        };
        resolve(database);
      };
      request.onerror = () => reject(request.error ?? new Error('indexedDB.open failed'));
      request.onblocked = () => reject(new Error('indexedDB.open blocked'));
    }).catch((error: unknown) => {
      opened = undefined;
      throw error;
    });
    return opened;
  };

  const transact = async <T>(
    mode: IDBTransactionMode,
    work: (meta: IDBObjectStore, snapshots: IDBObjectStore) => Promise<T> | T,
  ): Promise<T> => {
    const database = await db();
    const tx = database.transaction([META, SNAPSHOTS], mode);
    const done = new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error('transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
    });
    let result: T;
    try {
      result = await work(tx.objectStore(META), tx.objectStore(SNAPSHOTS));
    } catch (error) {
      // Nothing of a failed write is kept (e.g. the evictions before finding that the copy cannot fit).
      tx.abort();
      await done.catch(() => undefined);
      throw error;
    }
    await done;
    return result;
  };

  return {
    async read(accountId, mapId) {
      const key = keyOf(accountId, mapId);
      return transact('readonly', async (meta, snapshots) => {
        const [m, bytes] = await Promise.all([
          request<CopyMeta | undefined>(meta.get(key)),
          request<unknown>(snapshots.get(key)),
        ]);
        if (!m || !(bytes instanceof Uint8Array)) return undefined;
        return {
          snapshot: bytes,
          pending: m.pending,
          role: m.role,
          savedAt: m.savedAt,
          writer: m.writer ?? '',
        };
      });
    },

    async write(accountId, mapId, copy) {
      const key = keyOf(accountId, mapId);
      if (copy.snapshot.byteLength > limits.maxCopyBytes) throw new LocalCopyRefused('tooLarge');
      try {
        await transact('readwrite', async (meta, snapshots) => {
          const all = await request<CopyMeta[]>(meta.getAll());
          const stored = all.find((m) => m.key === key);
          // Another tab's unsent edits outrank this tab's copy that has none to send (each tab sends its own).
          if (stored?.pending && stored.writer && stored.writer !== copy.writer && !copy.pending) return;
          const others = all.filter((m) => m.key !== key);
          let total = others.reduce((sum, m) => sum + m.bytes, 0) + copy.snapshot.byteLength;
          // Oldest first, and never a copy whose edits have not reached the server.
          for (const m of others.filter((o) => !o.pending).sort((a, b) => a.savedAt - b.savedAt)) {
            if (total <= limits.maxTotalBytes) break;
            meta.delete(m.key);
            snapshots.delete(m.key);
            total -= m.bytes;
          }
          if (total > limits.maxTotalBytes) throw new LocalCopyRefused('tooLarge');
          const record: CopyMeta = {
            key,
            bytes: copy.snapshot.byteLength,
            pending: copy.pending,
            role: copy.role,
            savedAt: copy.savedAt,
            writer: copy.writer,
          };
          meta.put(record);
          snapshots.put(copy.snapshot, key);
        });
      } catch (error) {
        if (error instanceof LocalCopyRefused) throw error;
        // QuotaExceededError, a closed or missing database, private browsing: all the same to the person.
        throw new LocalCopyRefused('refused');
      }
    },

    async markSaved(accountId, mapId, writer) {
      const key = keyOf(accountId, mapId);
      await transact('readwrite', async (meta) => {
        const m = await request<CopyMeta | undefined>(meta.get(key));
        if (m?.pending && m.writer === writer) meta.put({ ...m, pending: false });
      });
    },

    async remove(accountId, mapId) {
      const key = keyOf(accountId, mapId);
      await transact('readwrite', (meta, snapshots) => {
        meta.delete(key);
        snapshots.delete(key);
      });
    },

    async clear() {
      await transact('readwrite', (meta, snapshots) => {
        meta.clear();
        snapshots.clear();
      });
    },
  };
}

function request<T>(req: IDBRequest): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    req.onsuccess = () => resolve(req.result as T);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}
