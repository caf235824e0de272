/**
 * The SRP-6a formulas, parameterised by profile (group and hash) and free of randomness, so that RFC 5054's
 * Appendix B vectors and Canopy's own vector can be replayed exactly. Notation follows API.md:
 *   k = H(N | PAD(g))                 x = H(s | H(I | ":" | P))       v = g^x
 *   A = g^a                           B = k*v + g^b                   u = H(PAD(A) | PAD(B))
 *   S = (B - k*g^x)^(a + u*x) = (A * v^u)^b                           K = H(PAD(S))
 *   M1 = H((H(N) xor H(g)) | H(I) | s | PAD(A) | PAD(B) | K)          M2 = H(PAD(A) | M1 | K)
 * All mod N. N and g enter H(N) and H(g) unpadded (N as its 384 bytes, g as its one byte).
 */
import type { Bytes } from './bytes.ts';
import { bigIntToBytes, bigIntToMinimalBytes, bytesToBigInt, bytesToHex, utf8 } from './bytes.ts';
import type { SrpProfile } from './profile.ts';
import { hash, modPow, pbkdf2Sha256 } from './primitives.ts';

/** I: the account's identity is its e-mail in lower case (API.md), so login is case-insensitive. */
export function srpIdentity(email: string): string {
  return email.toLowerCase();
}

function pad(profile: SrpProfile, value: bigint): Bytes {
  return bigIntToBytes(value, profile.group.byteLength);
}

export async function multiplier(profile: SrpProfile): Promise<bigint> {
  const { N, g } = profile.group;
  return bytesToBigInt(await hash(profile.hash, bigIntToMinimalBytes(N), pad(profile, g)));
}

/** P as it enters x: the raw password (RFC 5054) or hex(PBKDF2(password, s)) (Canopy). */
export async function passwordInput(
  profile: SrpProfile,
  salt: Uint8Array,
  password: string,
): Promise<string> {
  if (profile.passwordKdf === null) return password;
  return bytesToHex(await pbkdf2Sha256(password, salt, profile.passwordKdf.iterations));
}

export async function privateKey(
  profile: SrpProfile,
  salt: Uint8Array,
  identity: string,
  password: string,
): Promise<bigint> {
  const inner = await hash(profile.hash, utf8(`${identity}:${await passwordInput(profile, salt, password)}`));
  return bytesToBigInt(await hash(profile.hash, salt, inner));
}

export function verifier(profile: SrpProfile, x: bigint): bigint {
  return modPow(profile.group.g, x, profile.group.N);
}

export function clientPublic(profile: SrpProfile, a: bigint): bigint {
  return modPow(profile.group.g, a, profile.group.N);
}

export function serverPublic(profile: SrpProfile, k: bigint, v: bigint, b: bigint): bigint {
  const { N, g } = profile.group;
  return (k * v + modPow(g, b, N)) % N;
}

export async function scrambler(profile: SrpProfile, A: bigint, B: bigint): Promise<bigint> {
  return bytesToBigInt(await hash(profile.hash, pad(profile, A), pad(profile, B)));
}

export function clientPremaster(
  profile: SrpProfile,
  params: { k: bigint; x: bigint; a: bigint; u: bigint; B: bigint },
): bigint {
  const { N, g } = profile.group;
  const { k, x, a, u, B } = params;
  return modPow(B - ((k * modPow(g, x, N)) % N), a + u * x, N);
}

export function serverPremaster(
  profile: SrpProfile,
  params: { v: bigint; b: bigint; u: bigint; A: bigint },
): bigint {
  const { N } = profile.group;
  const { v, b, u, A } = params;
  return modPow((A * modPow(v, u, N)) % N, b, N);
}

export async function sessionKey(profile: SrpProfile, S: bigint): Promise<Bytes> {
  return hash(profile.hash, pad(profile, S));
}

export async function clientProof(
  profile: SrpProfile,
  params: { identity: string; salt: Uint8Array; A: bigint; B: bigint; K: Uint8Array },
): Promise<Bytes> {
  const { N, g } = profile.group;
  const hN = await hash(profile.hash, bigIntToMinimalBytes(N));
  const hg = await hash(profile.hash, bigIntToMinimalBytes(g));
  const groupDigest = hN.map((byte, i) => byte ^ (hg[i] ?? 0));
  return hash(
    profile.hash,
    groupDigest,
    await hash(profile.hash, utf8(params.identity)),
    params.salt,
    pad(profile, params.A),
    pad(profile, params.B),
    params.K,
  );
}

export async function serverProof(
  profile: SrpProfile,
  params: { A: bigint; M1: Uint8Array; K: Uint8Array },
): Promise<Bytes> {
  return hash(profile.hash, pad(profile, params.A), params.M1, params.K);
}

/** Byte length of the profile's digests (M1, M2, K). */
export function digestLength(profile: SrpProfile): number {
  return profile.hash === 'SHA-1' ? 20 : 32;
}
