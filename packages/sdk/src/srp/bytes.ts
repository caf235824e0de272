/** Byte, hex and big-endian integer codecs. Inputs from the wire are validated here and nowhere else. */
import { SrpError } from './errors.ts';

/** Bytes backed by a plain ArrayBuffer, as WebCrypto accepts them. */
export type Bytes = Uint8Array<ArrayBuffer>;

const HEX_DIGITS = /^[0-9a-fA-F]*$/;

export function utf8(text: string): Bytes {
  const encoded = new TextEncoder().encode(text);
  return new Uint8Array(encoded);
}

export function concatBytes(...parts: readonly Uint8Array[]): Bytes {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Lower-case hex, the wire encoding of every SRP value. */
export function bytesToHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/**
 * Decodes hex (either letter case) whose byte length lies in [minBytes, maxBytes].
 * @throws SrpError `invalid_hex` or `invalid_length`
 */
export function hexToBytes(hex: unknown, what: string, minBytes: number, maxBytes: number): Bytes {
  if (typeof hex !== 'string' || !HEX_DIGITS.test(hex) || hex.length % 2 !== 0) {
    throw new SrpError('invalid_hex', `${what} is not a string of hex digit pairs`);
  }
  const length = hex.length / 2;
  if (length < minBytes || length > maxBytes) {
    const range = minBytes === maxBytes ? `${minBytes}` : `${minBytes} to ${maxBytes}`;
    throw new SrpError('invalid_length', `${what} must be ${range} bytes, got ${length}`);
  }
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytesToHex(bytes)}`);
}

/** Big-endian, left-padded with zeros to `length` bytes (PAD() when `length` is the byte length of N). */
export function bigIntToBytes(value: bigint, length: number): Bytes {
  if (value < 0n) throw new RangeError('negative integers have no SRP encoding');
  const hex = value.toString(16);
  if (hex.length > 2 * length) throw new RangeError(`integer does not fit in ${length} bytes`);
  return hexToBytes(hex.padStart(2 * length, '0'), 'integer', length, length);
}

/** Big-endian without leading zero bytes (how RFC 5054 hashes N). */
export function bigIntToMinimalBytes(value: bigint): Bytes {
  const hex = value.toString(16);
  return bigIntToBytes(value, Math.ceil(hex.length / 2));
}

/**
 * Equality whose running time depends only on the lengths, never on where the bytes differ.
 * Callers compare values of a fixed, public length (proofs), so the early length check leaks nothing.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}

export function randomBytes(length: number): Bytes {
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}
