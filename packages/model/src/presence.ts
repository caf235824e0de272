/**
 * Presence (who is in a room, what they have selected) over Loro's `EphemeralStore`: a key-value store whose
 * entries are last-writer-wins by timestamp and expire when not refreshed. The model wraps it, as it wraps the
 * document, so that Loro stays behind this package (ARCHITECTURE.md, Co-editing).
 *
 * Values are what Loro can hold: JSON-like values (objects, arrays, strings, numbers, booleans, null) and bytes.
 */
import { EphemeralStore, type Value } from 'loro-crdt';
import { fail, ok, type ModelResult } from './errors.ts';

export interface PresenceChange {
  /** `local`: set or deleted here; `import`: from `apply`; `timeout`: expired (not refreshed in time). */
  by: 'local' | 'import' | 'timeout';
  added: string[];
  updated: string[];
  removed: string[];
}

/**
 * The longest timeout a store can have: Loro's store sweeps expired entries every `timeout / 2` ms with
 * `setInterval`, whose delay must fit in a signed 32-bit integer (about 24.8 days, so ~49.7 days here).
 */
export const MAX_PRESENCE_TIMEOUT_MS = 2 * (2 ** 31 - 1);

export class PresenceStore {
  private readonly store: EphemeralStore;
  private destroyed = false;

  /** Entries not set or refreshed within `timeoutMs` expire (a `timeout` change lists them). */
  constructor(timeoutMs: number) {
    this.store = new EphemeralStore(Math.min(timeoutMs, MAX_PRESENCE_TIMEOUT_MS));
  }

  get(key: string): unknown {
    return this.store.get(key);
  }

  set(key: string, value: unknown): void {
    this.store.set(key, value as Value);
  }

  delete(key: string): void {
    this.store.delete(key);
  }

  /** Keys with a live (set, unexpired) value. */
  keys(): string[] {
    return this.store.keys();
  }

  states(): Record<string, unknown> {
    return this.store.getAllStates();
  }

  /** An update carrying this key's value (or its deletion); empty-bodied when the store never saw the key. */
  encode(key: string): Uint8Array {
    return this.store.encode(key);
  }

  /** An update carrying every unexpired entry, deletions included. */
  encodeAll(): Uint8Array {
    return this.store.encodeAll();
  }

  /** Applies another store's update (newer timestamps win per key); fails on bytes that do not decode. */
  apply(update: Uint8Array): ModelResult<void> {
    try {
      this.store.apply(update);
      return ok(undefined);
    } catch (err) {
      return fail('malformed-update', `not a presence update: ${String(err)}`);
    }
  }

  /** Called synchronously from inside the store: do not call back into it from the listener. */
  subscribe(listener: (change: PresenceChange) => void): () => void {
    return this.store.subscribe(listener);
  }

  /** Updates made here (set, delete), encoded for the other stores. */
  onLocalUpdate(listener: (update: Uint8Array) => void): () => void {
    return this.store.subscribeLocalUpdates(listener);
  }

  /** Stops the expiry timer and frees the store's WebAssembly memory. Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.store.destroy();
    this.store.inner.free();
  }
}

/** What a presence update does to one key. */
export type OwnPresenceUpdate =
  | { kind: 'set'; value: unknown }
  | { kind: 'delete' }
  /** The update carries no entry (or only one too old to apply). */
  | { kind: 'none' };

/**
 * Reads an update that may touch `key` and nothing else (a member writing its own presence). Fails with
 * `malformed-update` when the bytes do not decode and `invalid-operation` when any entry, a deletion included,
 * names another key. The update is decoded into a scratch store, never into the caller's: only the value read
 * here goes further, so nothing the update says about other keys can reach anyone.
 */
export function readOwnPresenceUpdate(update: Uint8Array, key: string): ModelResult<OwnPresenceUpdate> {
  // The longest timeout: the sender's clock may be behind ours, and its entry is still its latest word.
  const scratch = new PresenceStore(MAX_PRESENCE_TIMEOUT_MS);
  try {
    const applied = scratch.apply(update);
    if (!applied.ok) return applied;
    const all = scratch.encodeAll();
    // `keys()` lists live values only; a deletion of another key shows as an extra entry in `encodeAll()`,
    // which then differs from the encoding of `key` alone.
    if (!sameBytes(all, scratch.encode(key)) || scratch.keys().some((k) => k !== key))
      return fail('invalid-operation', 'a presence update may only write its own key');
    if (sameBytes(all, EMPTY_UPDATE)) return ok({ kind: 'none' });
    const value = scratch.get(key);
    return ok(value === undefined ? { kind: 'delete' } : { kind: 'set', value });
  } finally {
    scratch.destroy();
  }
}

/** The encoding of a store with no entries (an empty list). */
const EMPTY_UPDATE = new Uint8Array([0]);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
