/**
 * The blob port: named, encrypted, size-limited blob stores, one per region. `CANOPY_BLOB_URL` names the
 * default store (`file:<dir>` embedded, `s3://bucket?...` scaled out); `regions` adds named ones (e.g.
 * `{ eu: 's3://canopy-eu?region=eu-central-1', us: 's3://canopy-us?region=us-east-1' }`) for publishing.
 */
import type { Logger } from 'pino';
import type { TenantKeyStore } from '../crypto/tenant-keys.ts';
import type { BlobBackend } from './backend.ts';
import { FsBlobBackend } from './fs-backend.ts';
import { parseS3Url, S3BlobBackend } from './s3-backend.ts';
import { BlobStore, type BlobStoreOptions } from './store.ts';

export { BlobStore, type BlobBody } from './store.ts';
export { BlobKeyError, blobPath, type BlobBackend } from './backend.ts';
export { FsBlobBackend } from './fs-backend.ts';
export { S3BlobBackend, parseS3Url } from './s3-backend.ts';
export { BlobIntegrityError, BlobTooLargeError } from './stream-format.ts';

export function openBlobBackend(url: string): BlobBackend {
  if (url.startsWith('file:')) return new FsBlobBackend(url.slice('file:'.length).replace(/^\/\/(?=\/)/, ''));
  if (url.startsWith('s3://')) return new S3BlobBackend(parseS3Url(url));
  throw new Error(`unsupported blob URL scheme: ${url.split(':')[0] ?? ''}`);
}

export interface BlobStoresOptions extends BlobStoreOptions {
  /** The default store's URL (config.blobUrl). */
  blobUrl: string;
  /** Named regional stores, name → URL. */
  regions?: Record<string, string>;
}

export interface BlobStores {
  readonly default: BlobStore;
  /** The store of a region; unknown names throw (a region must be configured before it is used). */
  region(name: string): BlobStore;
  readonly names: string[];
  all(): BlobStore[];
  /** Readiness check over every store (for /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function createBlobStores(
  options: BlobStoresOptions,
  deps: { keys: TenantKeyStore; logger?: Logger },
): BlobStores {
  const stores = new Map<string, BlobStore>();
  stores.set('default', new BlobStore('default', openBlobBackend(options.blobUrl), deps.keys, options));
  for (const [name, url] of Object.entries(options.regions ?? {})) {
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(name) || name === 'default')
      throw new Error(`invalid blob region name: ${name}`);
    stores.set(name, new BlobStore(name, openBlobBackend(url), deps.keys, options));
  }
  const defaultStore = stores.get('default')!;
  return {
    default: defaultStore,
    names: [...stores.keys()],
    region(name) {
      const s = stores.get(name);
      if (!s) throw new Error(`no blob store for region ${name}`);
      return s;
    },
    all: () => [...stores.values()],
    ping: async () => {
      for (const s of stores.values()) await s.backend.ping();
    },
    close: async () => {
      for (const s of stores.values()) await s.backend.close();
    },
  };
}
