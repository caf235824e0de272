/** The standard primitives SRP composes, all from WebCrypto so that the same code runs in Node and browsers. */
import type { Bytes } from './bytes.ts';
import { concatBytes, utf8 } from './bytes.ts';
import type { SrpHash } from './profile.ts';

const subtle = () => globalThis.crypto.subtle;

/** H(a | b | ...): the hash of the concatenation. */
export async function hash(algorithm: SrpHash, ...parts: readonly Uint8Array[]): Promise<Bytes> {
  return new Uint8Array(await subtle().digest(algorithm, concatBytes(...parts)));
}

export async function hmacSha256(key: Uint8Array, message: Uint8Array): Promise<Bytes> {
  const cryptoKey = await subtle().importKey(
    'raw',
    concatBytes(key),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return new Uint8Array(await subtle().sign('HMAC', cryptoKey, concatBytes(message)));
}

/** PBKDF2-HMAC-SHA256 of the UTF-8 password, 32 bytes. */
export async function pbkdf2Sha256(password: string, salt: Uint8Array, iterations: number): Promise<Bytes> {
  const key = await subtle().importKey('raw', utf8(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await subtle().deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt: concatBytes(salt), iterations },
    key,
    256,
  );
  return new Uint8Array(bits);
}

/** base^exponent mod modulus by square-and-multiply (BigInt has no modPow). Not constant-time. */
export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let square = ((base % modulus) + modulus) % modulus;
  for (let rest = exponent; rest > 0n; rest >>= 1n) {
    if (rest & 1n) result = (result * square) % modulus;
    square = (square * square) % modulus;
  }
  return result % modulus;
}
