/** The client half (web app, CLI): registration and the two login steps. */
import {
  bytesToBigInt,
  bytesToHex,
  constantTimeEqual,
  hexToBytes,
  randomBytes,
  type Bytes,
} from './bytes.ts';
import {
  clientPremaster,
  clientProof,
  clientPublic,
  multiplier,
  privateKey,
  scrambler,
  serverProof,
  sessionKey,
  srpIdentity,
  verifier,
} from './core.ts';
import { SrpError } from './errors.ts';
import { CANOPY_SRP_PROFILE, type SrpProfile } from './profile.ts';
import { groupElementToHex, parseGroupElement, parseSalt, SALT_BYTES } from './wire.ts';

/** Secret exponents a and b: 256 random bits, RFC 5054's minimum. */
export const EPHEMERAL_SECRET_BYTES = 32;

/** What the server stores per account (API.md: sent once at sign-up or password change, never the password). */
export interface SrpVerifierRecord {
  salt: string;
  verifier: string;
}

/**
 * Makes a fresh salt and the verifier v = g^x for a new or changed password.
 * Runs PBKDF2 once (600,000 iterations in production).
 */
export async function srpRegister(
  email: string,
  password: string,
  profile: SrpProfile = CANOPY_SRP_PROFILE,
): Promise<SrpVerifierRecord> {
  const salt = randomBytes(SALT_BYTES);
  const x = await privateKey(profile, salt, srpIdentity(email), password);
  return { salt: bytesToHex(salt), verifier: groupElementToHex(verifier(profile, x), profile) };
}

/**
 * Step 1 state. Secret (it holds a, and the password if given): keep it in memory, send only `A`.
 * The password may be left out here and given to `srpClientFinish` instead, e.g. when A is sent before the
 * user has finished typing; A does not depend on it.
 */
export interface SrpClientState {
  /** Sent to `POST /sessions/srp/start` as `A`. */
  readonly A: string;
  readonly identity: string;
  readonly a: string;
  readonly password?: string;
}

export async function srpClientStart(
  email: string,
  password?: string,
  profile: SrpProfile = CANOPY_SRP_PROFILE,
): Promise<SrpClientState> {
  return srpClientStartWithSecret(email, password, randomBytes(EPHEMERAL_SECRET_BYTES), profile);
}

/** `srpClientStart` with a chosen a, for known-answer tests only. */
export async function srpClientStartWithSecret(
  email: string,
  password: string | undefined,
  a: Bytes,
  profile: SrpProfile = CANOPY_SRP_PROFILE,
): Promise<SrpClientState> {
  const A = groupElementToHex(clientPublic(profile, bytesToBigInt(a)), profile);
  const state = { A, identity: srpIdentity(email), a: bytesToHex(a) };
  return password === undefined ? state : { ...state, password };
}

export interface SrpClientSession {
  /** Sent to `POST /sessions/srp/finish` as `M1`. */
  readonly M1: string;
  /** The M2 an honest server answers with; check it with `verifyM2` before trusting the session. */
  readonly expectedM2: string;
  /** The shared session key K = H(PAD(S)). */
  readonly K: Bytes;
}

/**
 * Step 2: from the server's `{salt, B}`, proves knowledge of the password.
 * @throws SrpError `invalid_hex`, `invalid_length` or `invalid_public_value` for a malformed or unsafe salt or B
 *   (abort the login), `missing_password` if no password was given at start nor here
 */
export async function srpClientFinish(
  state: SrpClientState,
  server: { salt: string; B: string },
  options: { password?: string; profile?: SrpProfile } = {},
): Promise<SrpClientSession> {
  const profile = options.profile ?? CANOPY_SRP_PROFILE;
  const password = options.password ?? state.password;
  if (password === undefined)
    throw new SrpError('missing_password', 'no password to finish the SRP login with');
  const salt = parseSalt(server.salt);
  const B = parseGroupElement(server.B, 'B', profile);
  const A = parseGroupElement(state.A, 'A', profile);
  const a = bytesToBigInt(hexToBytes(state.a, 'a', 1, profile.group.byteLength));

  const u = await scrambler(profile, A, B);
  if (u === 0n) throw new SrpError('invalid_public_value', 'B gives the scrambler u = 0');
  const k = await multiplier(profile);
  const x = await privateKey(profile, salt, state.identity, password);
  const K = await sessionKey(profile, clientPremaster(profile, { k, x, a, u, B }));
  const M1 = await clientProof(profile, { identity: state.identity, salt, A, B, K });
  const M2 = await serverProof(profile, { A, M1, K });
  return { M1: bytesToHex(M1), expectedM2: bytesToHex(M2), K };
}

/**
 * Whether the server's M2 proves it knew the verifier (mutual authentication). A false answer means the
 * server is not the one the password was registered with: discard the session and its token.
 */
export function verifyM2(session: Pick<SrpClientSession, 'expectedM2'>, M2: string): boolean {
  const profileLength = session.expectedM2.length / 2;
  try {
    const received = hexToBytes(M2, 'M2', profileLength, profileLength);
    return constantTimeEqual(received, hexToBytes(session.expectedM2, 'expected M2', 1, profileLength));
  } catch (error) {
    if (error instanceof SrpError) return false;
    throw error;
  }
}
