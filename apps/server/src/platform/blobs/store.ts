/**
 * A named blob store (one per region: `default`, `eu`, `us`...). Every blob belongs to a tenant and is
 * encrypted with that tenant's data key (stream-format.ts) before it reaches the backend; reads decrypt and
 * authenticate as they stream. Sizes are bounded: `maxBytes` per store, lower per call.
 */
import { Readable } from 'node:stream';
import { AppError, notFound, tooLarge } from '../errors.ts';
import type { DataKeyUser } from '../crypto/data-key-rotation.ts';
import type { TenantKeyStore } from '../crypto/tenant-keys.ts';
import { BlobKeyError, blobPath, tenantPrefix, type BlobBackend } from './backend.ts';
import {
  BLOB_HEADER_BYTES,
  BlobTooLargeError,
  createBlobDecryptor,
  createBlobEncryptor,
  maxSealedBytes,
  parseBlobHeader,
} from './stream-format.ts';

export type BlobBody = Readable | Uint8Array | AsyncIterable<Uint8Array>;

export interface BlobStoreOptions {
  /** Default and ceiling of the plaintext size of one blob. Default 100 MiB. */
  maxBytes?: number;
}

const toReadable = (body: BlobBody): Readable =>
  body instanceof Readable
    ? body
    : body instanceof Uint8Array
      ? Readable.from([Buffer.from(body)])
      : Readable.from(body);

function asAppError(err: unknown): unknown {
  if (err instanceof BlobTooLargeError) return tooLarge(err.message);
  if (err instanceof BlobKeyError) return new AppError(400, 'invalid_blob_key', err.message);
  return err;
}

export class BlobStore {
  readonly maxBytes: number;

  constructor(
    readonly name: string,
    readonly backend: BlobBackend,
    private readonly keys: TenantKeyStore,
    options: BlobStoreOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? 100 * 1024 * 1024;
  }

  /** Stores `body` as the tenant's blob `key` (replacing any), encrypted; returns the plaintext size. */
  async put(
    tenantId: string,
    key: string,
    body: BlobBody,
    options: { maxBytes?: number } = {},
  ): Promise<{ size: number }> {
    return this.write(tenantId, key, toReadable(body), options.maxBytes);
  }

  private async write(
    tenantId: string,
    key: string,
    plain: Readable,
    maxBytes?: number,
    precondition?: () => Promise<boolean>,
  ) {
    try {
      const path = blobPath(tenantId, key);
      const limit = Math.min(maxBytes ?? this.maxBytes, this.maxBytes);
      const { version, key: dataKey } = await this.keys.activeKey(tenantId, 'data');
      let size = 0;
      plain.on('data', (c: Buffer) => void (size += c.length));
      const sealed = plain.pipe(
        createBlobEncryptor(dataKey, version, { tenantId, key }, { maxBytes: limit }),
      );
      plain.once('error', (err) => sealed.destroy(err));
      // The backend sees the error when it reads (an errored stream stays errored); this only keeps an error
      // raised before it starts reading from being reported as uncaught.
      sealed.on('error', () => {});
      const stored = await this.backend.put(path, sealed, {
        maxBytes: maxSealedBytes(limit),
        ...(precondition ? { precondition } : {}),
      });
      if (!stored) return { size: -1 };
      return { size };
    } catch (err) {
      throw asAppError(err);
    }
  }

  /** The tenant's blob as a decrypting stream; the stream errors if the stored bytes were altered or moved. */
  async get(tenantId: string, key: string): Promise<Readable> {
    let raw: Readable | undefined;
    try {
      raw = await this.backend.get(blobPath(tenantId, key));
    } catch (err) {
      throw asAppError(err);
    }
    if (!raw) throw notFound('No such blob.');
    const plain = createBlobDecryptor({ tenantId, key }, (v) => this.keys.keyVersion(tenantId, 'data', v));
    raw.once('error', (err) => plain.destroy(err));
    plain.once('close', () => raw.destroy());
    return raw.pipe(plain);
  }

  async getBuffer(tenantId: string, key: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const c of await this.get(tenantId, key)) parts.push(c as Buffer);
    return Buffer.concat(parts);
  }

  async exists(tenantId: string, key: string): Promise<boolean> {
    return (await this.backend.head(blobPath(tenantId, key), 1)) !== undefined;
  }

  async delete(tenantId: string, key: string): Promise<boolean> {
    try {
      return await this.backend.delete(blobPath(tenantId, key));
    } catch (err) {
      throw asAppError(err);
    }
  }

  /** The tenant's blob keys under `prefix` (sorted). */
  async list(tenantId: string, prefix = ''): Promise<string[]> {
    const base = tenantPrefix(tenantId);
    const out: string[] = [];
    for await (const path of this.backend.list(base)) {
      const key = path.slice(base.length);
      if (key.startsWith(prefix)) out.push(key);
    }
    return out.sort();
  }

  /** Deletes every blob of the tenant (offboarding); returns how many. */
  async deleteTenant(tenantId: string): Promise<number> {
    let n = 0;
    for (const key of await this.list(tenantId)) if (await this.delete(tenantId, key)) n++;
    return n;
  }

  private async keyVersionOf(
    tenantId: string,
    key: string,
  ): Promise<{ version: number; header: Buffer } | undefined> {
    const header = await this.backend.head(blobPath(tenantId, key), BLOB_HEADER_BYTES);
    if (!header) return undefined;
    return { version: parseBlobHeader(header).keyVersion, header };
  }

  /** Lets tenant data-key rotation re-encrypt this store's blobs and know when an old key is unused. */
  asDataKeyUser(): DataKeyUser {
    return {
      name: `blob store ${this.name}`,
      reencrypt: async (tenantId, activeVersion, heartbeat) => {
        let n = 0;
        for (const key of await this.list(tenantId)) {
          const current = await this.keyVersionOf(tenantId, key);
          if (!current || current.version === activeVersion) continue;
          const plain = await this.get(tenantId, key);
          // Skip the write if someone replaced the blob meanwhile (their write used the active key).
          const unchanged = async () =>
            (await this.backend.head(blobPath(tenantId, key), BLOB_HEADER_BYTES))?.equals(current.header) ??
            false;
          const r = await this.write(tenantId, key, plain, this.maxBytes, unchanged);
          if (r.size >= 0) n++;
          await heartbeat();
        }
        return n;
      },
      versionsInUse: async (tenantId) => {
        const counts = new Map<number, number>();
        for (const key of await this.list(tenantId)) {
          const v = await this.keyVersionOf(tenantId, key);
          if (v) counts.set(v.version, (counts.get(v.version) ?? 0) + 1);
        }
        return counts;
      },
    };
  }
}
