/**
 * The encrypted blob format (version 1): a streaming AEAD in 64 KiB chunks, so a blob of any size is encrypted
 * and decrypted with constant memory. docs/security.md, "Blob format", describes it:
 *
 *   header (37 bytes)
 *     0   4   magic "CNBL"
 *     4   1   format version, 0x01
 *     5   4   tenant data-key version, uint32 big-endian
 *     9   16  HKDF salt (random per blob)
 *     25  8   nonce prefix (random per blob)
 *     33  4   plaintext bytes per chunk, uint32 big-endian (65536)
 *   then chunks: AES-256-GCM ciphertext (chunk size bytes; the last chunk 0..chunk size) || 16-byte tag
 *
 * Blob key = HKDF-SHA256(tenant data key, salt, "canopy/v1/blob"). Chunk i's IV is nonce prefix || uint32(i);
 * its AAD is header || encoded (tenant, blob key) || uint32(i) || final flag (1 on the last chunk, else 0),
 * so chunks cannot be reordered, dropped, truncated at a chunk boundary, or moved to another tenant or name.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { deriveKey, encodeFields } from '../crypto/value-format.ts';

export const BLOB_MAGIC = Buffer.from('CNBL', 'ascii');
export const BLOB_HEADER_BYTES = 37;
export const DEFAULT_CHUNK_BYTES = 65_536;
const TAG_BYTES = 16;
const BLOB_INFO = Buffer.from('canopy/v1/blob', 'utf8');

export interface BlobBinding {
  tenantId: string;
  key: string;
}

export class BlobIntegrityError extends Error {
  constructor(reason: string) {
    super(`encrypted blob is damaged or not ours: ${reason}`);
    this.name = 'BlobIntegrityError';
  }
}

export class BlobTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`blob exceeds the limit of ${maxBytes} bytes`);
    this.name = 'BlobTooLargeError';
  }
}

export function parseBlobHeader(header: Uint8Array): { keyVersion: number; chunkBytes: number } {
  const h = Buffer.from(header.buffer, header.byteOffset, header.byteLength);
  if (h.length < BLOB_HEADER_BYTES || !h.subarray(0, 4).equals(BLOB_MAGIC))
    throw new BlobIntegrityError('bad magic');
  if (h[4] !== 1) throw new BlobIntegrityError(`unknown format version ${h[4]}`);
  const chunkBytes = h.readUInt32BE(33);
  if (chunkBytes < 1 || chunkBytes > 16 * 1024 * 1024) throw new BlobIntegrityError('bad chunk size');
  return { keyVersion: h.readUInt32BE(5), chunkBytes };
}

function chunkParams(header: Buffer, bindingAad: Buffer, index: number, final: boolean) {
  const iv = Buffer.alloc(12);
  header.copy(iv, 0, 25, 33);
  iv.writeUInt32BE(index, 8);
  const tail = Buffer.alloc(5);
  tail.writeUInt32BE(index, 0);
  tail.writeUInt8(final ? 1 : 0, 4);
  return { iv, aad: Buffer.concat([header, bindingAad, tail]) };
}

const blobAad = (b: BlobBinding) => encodeFields('canopy-blob', [b.tenantId, b.key]);

/** Encrypts a plaintext stream; fails with BlobTooLargeError past `maxBytes` of plaintext. */
export function createBlobEncryptor(
  dataKey: Uint8Array,
  keyVersion: number,
  binding: BlobBinding,
  options: { maxBytes: number; chunkBytes?: number },
): Transform {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const salt = randomBytes(16);
  const header = Buffer.alloc(BLOB_HEADER_BYTES);
  BLOB_MAGIC.copy(header, 0);
  header.writeUInt8(1, 4);
  header.writeUInt32BE(keyVersion, 5);
  salt.copy(header, 9);
  randomBytes(8).copy(header, 25);
  header.writeUInt32BE(chunkBytes, 33);
  const key = deriveKey(dataKey, salt, BLOB_INFO);
  const aadBase = blobAad(binding);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let index = 0;
  let total = 0;
  let headerSent = false;
  const sendHeader = (stream: Transform) => {
    if (!headerSent) stream.push(header);
    headerSent = true;
  };

  const seal = (plain: Buffer, final: boolean): Buffer => {
    const { iv, aad } = chunkParams(header, aadBase, index++, final);
    const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    c.setAAD(aad);
    return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  };

  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      total += chunk.length;
      if (total > options.maxBytes) return done(new BlobTooLargeError(options.maxBytes));
      sendHeader(this);
      pending.push(chunk);
      pendingBytes += chunk.length;
      // Keep at least one byte back: the last chunk must be sealed with the final flag.
      if (pendingBytes > chunkBytes) {
        let buf = Buffer.concat(pending);
        while (buf.length > chunkBytes) {
          this.push(seal(buf.subarray(0, chunkBytes), false));
          buf = buf.subarray(chunkBytes);
        }
        pending = [buf];
        pendingBytes = buf.length;
      }
      done();
    },
    flush(done: TransformCallback) {
      sendHeader(this);
      this.push(seal(Buffer.concat(pending), true));
      done();
    },
  });
}

/**
 * Decrypts a blob stream. `resolveKey` gets the key version from the header. Every chunk is authenticated
 * before its plaintext is pushed; a stream that ends without a final chunk fails.
 */
export function createBlobDecryptor(
  binding: BlobBinding,
  resolveKey: (keyVersion: number) => Promise<Buffer>,
): Transform {
  let buf: Buffer = Buffer.alloc(0);
  let header: Buffer | undefined;
  let key: Buffer | undefined;
  let chunkBytes = 0;
  let index = 0;
  let sawFinal = false;
  const aadBase = blobAad(binding);

  const open = (sealed: Buffer, final: boolean): Buffer => {
    if (!header || !key) throw new BlobIntegrityError('no header');
    if (sealed.length < TAG_BYTES) throw new BlobIntegrityError('truncated chunk');
    const { iv, aad } = chunkParams(header, aadBase, index++, final);
    const d = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    d.setAAD(aad);
    d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      return Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG_BYTES)), d.final()]);
    } catch {
      throw new BlobIntegrityError(`chunk ${index - 1} failed authentication`);
    }
  };

  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      const step = async () => {
        if (!header) {
          if (buf.length < BLOB_HEADER_BYTES) return;
          header = Buffer.from(buf.subarray(0, BLOB_HEADER_BYTES));
          const parsed = parseBlobHeader(header);
          chunkBytes = parsed.chunkBytes;
          key = deriveKey(await resolveKey(parsed.keyVersion), header.subarray(9, 25), BLOB_INFO);
          buf = buf.subarray(BLOB_HEADER_BYTES);
        }
        // Only a chunk followed by more bytes is known not to be the last one.
        while (buf.length > chunkBytes + TAG_BYTES) {
          this.push(open(buf.subarray(0, chunkBytes + TAG_BYTES), false));
          buf = buf.subarray(chunkBytes + TAG_BYTES);
        }
      };
      step().then(
        () => done(),
        (err: unknown) => done(err as Error),
      );
    },
    flush(done: TransformCallback) {
      try {
        if (!header) throw new BlobIntegrityError('truncated header');
        if (!sawFinal) {
          this.push(open(buf, true));
          sawFinal = true;
        }
        done();
      } catch (err) {
        done(err as Error);
      }
    },
  });
}

/** The largest ciphertext a plaintext of `maxBytes` can produce. */
export function maxSealedBytes(maxBytes: number, chunkBytes = DEFAULT_CHUNK_BYTES): number {
  return BLOB_HEADER_BYTES + maxBytes + (Math.floor(maxBytes / chunkBytes) + 1) * TAG_BYTES;
}
