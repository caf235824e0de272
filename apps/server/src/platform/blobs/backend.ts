/**
 * A blob backend stores opaque bytes under a path (`<tenant>/<key>`); the encrypted `BlobStore` sits on top.
 * Contract, tested by the shared suite on every backend:
 * - `put` is atomic: readers see the old object or the whole new one, never a part; a failed or oversized put
 *   leaves nothing behind. `precondition`, when given, runs just before the new object becomes visible, and a
 *   false result abandons the put (returns undefined).
 * - `get` streams; a missing object gives undefined.
 */
import type { Readable } from 'node:stream';

export interface BlobBackend {
  readonly kind: 'fs' | 's3';
  put(
    path: string,
    body: Readable,
    options: { maxBytes: number; precondition?: () => Promise<boolean> },
  ): Promise<{ size: number } | undefined>;
  get(path: string): Promise<Readable | undefined>;
  /** The first `bytes` bytes of an object (for reading headers), or undefined when missing. */
  head(path: string, bytes: number): Promise<Buffer | undefined>;
  delete(path: string): Promise<boolean>;
  /** Every path under `prefix` (which ends with '/'), in no particular order. */
  list(prefix: string): AsyncIterable<string>;
  /** Readiness: resolves when the store can be reached (the folder exists and is writable; the bucket answers). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class BlobKeyError extends Error {
  constructor(what: string, value: string) {
    super(`invalid blob ${what}: ${JSON.stringify(value.slice(0, 80))}`);
    this.name = 'BlobKeyError';
  }
}

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._=-]*$/;

/**
 * Blob keys are relative paths of safe segments (letters, digits, `_ - . =`, not starting with a dot), so no
 * key can climb out of its tenant's folder, name a hidden or temp file, or differ only in separators.
 */
export function blobPath(tenantId: string, key: string): string {
  if (!SEGMENT.test(tenantId) || tenantId.length > 64) throw new BlobKeyError('tenant id', tenantId);
  if (key.length === 0 || key.length > 512) throw new BlobKeyError('key', key);
  for (const segment of key.split('/')) if (!SEGMENT.test(segment)) throw new BlobKeyError('key', key);
  return `${tenantId}/${key}`;
}

export function tenantPrefix(tenantId: string): string {
  if (!SEGMENT.test(tenantId) || tenantId.length > 64) throw new BlobKeyError('tenant id', tenantId);
  return `${tenantId}/`;
}
