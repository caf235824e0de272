/** Parsing of the hex values that cross the network, with the checks SRP-6a needs before any arithmetic. */
import { bigIntToBytes, bytesToBigInt, bytesToHex, hexToBytes, type Bytes } from './bytes.ts';
import { digestLength } from './core.ts';
import { SrpError } from './errors.ts';
import type { SrpProfile } from './profile.ts';

/** Salts are 32 random bytes when Canopy makes them; 16 is RFC 5054's minimum, 64 a sanity bound. */
export const SALT_BYTES = 32;
const MIN_SALT_BYTES = 16;
const MAX_SALT_BYTES = 64;

export function parseSalt(hex: unknown): Bytes {
  return hexToBytes(hex, 'salt', MIN_SALT_BYTES, MAX_SALT_BYTES);
}

/**
 * A, B (and a stored verifier): an integer of at most the byte length of N, in [1, N - 1].
 * Rejecting 0 and everything ≥ N covers the RFC's "A mod N ≠ 0" and "B mod N ≠ 0" without reducing first.
 * @throws SrpError `invalid_hex`, `invalid_length` or `invalid_public_value`
 */
export function parseGroupElement(hex: unknown, what: string, profile: SrpProfile): bigint {
  const value = bytesToBigInt(hexToBytes(hex, what, 1, profile.group.byteLength));
  if (value === 0n || value >= profile.group.N) {
    throw new SrpError('invalid_public_value', `${what} must lie in [1, N - 1]`);
  }
  return value;
}

export function parseProof(hex: unknown, what: string, profile: SrpProfile): Bytes {
  const length = digestLength(profile);
  return hexToBytes(hex, what, length, length);
}

/** Group elements travel as PAD()ded lower-case hex, so their length never hints at their value. */
export function groupElementToHex(value: bigint, profile: SrpProfile): string {
  return bytesToHex(bigIntToBytes(value, profile.group.byteLength));
}
