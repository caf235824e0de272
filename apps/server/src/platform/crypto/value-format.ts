/**
 * The sealed-value format (version 1), pure: no keys are looked up here. docs/security.md, "Ciphertext format",
 * describes it byte by byte, and value-format.test.ts pins it with known answers.
 *
 *   offset  size  field
 *   0       1     format version, 0x01
 *   1       4     tenant data-key version, unsigned big-endian
 *   5       16    HKDF salt (random per value)
 *   21      12    AES-GCM IV (random per value)
 *   33      n     AES-256-GCM ciphertext of the plaintext (n = plaintext length)
 *   33+n    16    GCM authentication tag
 *
 * The value key is HKDF-SHA256(ikm = tenant data key, salt, info = "canopy/v1/value", 32 bytes), so every value
 * has its own key. The AAD is the 33-byte header followed by the encoded binding (tenant, table, record id,
 * column): a value copied to another row, column or tenant, or relabelled with another key version, fails.
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { publicRandomness } from './random-pool.ts';

export const VALUE_FORMAT_VERSION = 1;
export const VALUE_HEADER_BYTES = 33;
export const TAG_BYTES = 16;
export const VALUE_OVERHEAD_BYTES = VALUE_HEADER_BYTES + TAG_BYTES;
const SALT_BYTES = 16;
const IV_BYTES = 12;
const VALUE_INFO = Buffer.from('canopy/v1/value', 'utf8');

/** Where a sealed value lives. All four parts are bound into the AAD. */
export interface ValueBinding {
  tenantId: string;
  table: string;
  /** The record's id; for composite keys join the parts in a fixed order. */
  id: string;
  column: string;
}

export class DecryptionError extends Error {
  constructor(reason: string) {
    super(`cannot decrypt value: ${reason}`);
    this.name = 'DecryptionError';
  }
}

/** Length-prefixed UTF-8 fields (uint16 big-endian lengths): unambiguous, so ("a|b","c") never equals ("a","b|c"). */
export function encodeFields(label: string, fields: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of [label, ...fields]) {
    const bytes = Buffer.from(f, 'utf8');
    if (bytes.length > 0xffff) throw new RangeError('AAD field longer than 65535 bytes');
    const len = Buffer.alloc(2);
    len.writeUInt16BE(bytes.length);
    parts.push(len, bytes);
  }
  return Buffer.concat(parts);
}

export function bindingAad(binding: ValueBinding): Buffer {
  return encodeFields('canopy-value', [binding.tenantId, binding.table, binding.id, binding.column]);
}

const FIRST_BLOCK = Buffer.from([1]);

/**
 * HKDF-SHA256 (RFC 5869) of 32 bytes: extract PRK = HMAC(salt, ikm), expand T(1) = HMAC(PRK, info || 0x01),
 * which is the whole output since 32 bytes is one SHA-256 block. The same bytes as `crypto.hkdfSync('sha256',
 * ikm, salt, info, 32)` (value-format.test.ts checks it on random inputs) at less than half its cost: two HMACs
 * without hkdfSync's key-object and argument handling. An empty salt is HMAC's zero key, as the RFC says.
 */
export function deriveKey(dataKey: Uint8Array, salt: Uint8Array, info: Uint8Array): Buffer {
  const prk = createHmac('sha256', salt).update(dataKey).digest();
  return createHmac('sha256', prk).update(info).update(FIRST_BLOCK).digest();
}

export interface SealRandomness {
  salt: Uint8Array;
  iv: Uint8Array;
}

/** Seals `plaintext` under the tenant data key `dataKey` (version `keyVersion`). */
export function sealValue(
  dataKey: Uint8Array,
  keyVersion: number,
  binding: ValueBinding,
  plaintext: Uint8Array,
  randomness?: SealRandomness,
): Buffer {
  return valueSealer(dataKey, keyVersion, binding)(plaintext, randomness);
}

/**
 * `sealValue` for many values with one key and binding (a map's log entries): the binding's AAD encoded once
 * (or given: `bindingAad(binding)`, kept by the caller), the salt and IV from a pool of random bytes
 * (`random-pool.ts`), the output written into one buffer. Sealing was ~5 KB of garbage per collab edit
 * (sampling heap profile, session 11).
 */
export function valueSealer(
  dataKey: Uint8Array,
  keyVersion: number,
  binding: ValueBinding,
  aad: Buffer = bindingAad(binding),
): (plaintext: Uint8Array, randomness?: SealRandomness) => Buffer {
  if (dataKey.length !== 32) throw new RangeError('data key must be 32 bytes');
  if (!Number.isInteger(keyVersion) || keyVersion < 1 || keyVersion > 0xffffffff)
    throw new RangeError('bad key version');
  return (plaintext, randomness) => {
    if (randomness && (randomness.salt.length !== SALT_BYTES || randomness.iv.length !== IV_BYTES))
      throw new RangeError('bad salt or IV length');
    // Every byte is written below: header, ciphertext (as long as the plaintext: GCM is a stream mode), tag.
    const out = Buffer.allocUnsafe(VALUE_OVERHEAD_BYTES + plaintext.length);
    out.writeUInt8(VALUE_FORMAT_VERSION, 0);
    out.writeUInt32BE(keyVersion, 1);
    const salt = out.subarray(5, 5 + SALT_BYTES);
    const iv = out.subarray(5 + SALT_BYTES, VALUE_HEADER_BYTES);
    if (randomness) {
      salt.set(randomness.salt);
      iv.set(randomness.iv);
    } else publicRandomness.fill(out.subarray(5, VALUE_HEADER_BYTES));
    const header = out.subarray(0, VALUE_HEADER_BYTES);
    const key = deriveKey(dataKey, salt, VALUE_INFO);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.concat([header, aad]));
    const body = cipher.update(plaintext);
    const rest = cipher.final();
    if (body.length + rest.length !== plaintext.length) throw new Error('AES-GCM changed the length');
    out.set(body, VALUE_HEADER_BYTES);
    out.set(rest, VALUE_HEADER_BYTES + body.length);
    out.set(cipher.getAuthTag(), VALUE_HEADER_BYTES + plaintext.length);
    return out;
  };
}

/** The key version a sealed value names, without decrypting it. */
export function sealedKeyVersion(sealed: Uint8Array): number {
  if (sealed.length < VALUE_OVERHEAD_BYTES) throw new DecryptionError('too short');
  if (sealed[0] !== VALUE_FORMAT_VERSION) throw new DecryptionError(`unknown format version ${sealed[0]}`);
  return Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength).readUInt32BE(1);
}

export function openValue(dataKey: Uint8Array, binding: ValueBinding, sealed: Uint8Array): Buffer {
  sealedKeyVersion(sealed); // validates length and format version
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const header = buf.subarray(0, VALUE_HEADER_BYTES);
  const salt = buf.subarray(5, 21);
  const iv = buf.subarray(21, 33);
  const body = buf.subarray(VALUE_HEADER_BYTES, buf.length - TAG_BYTES);
  const tag = buf.subarray(buf.length - TAG_BYTES);
  const key = deriveKey(dataKey, salt, VALUE_INFO);
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.concat([header, bindingAad(binding)]));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new DecryptionError('authentication failed (wrong key, wrong row, or tampered)');
  }
}
