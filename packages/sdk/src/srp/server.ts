/** The server half: `POST /sessions/srp/start` and `/finish`. */
import {
  bytesToBigInt,
  bytesToHex,
  constantTimeEqual,
  hexToBytes,
  randomBytes,
  type Bytes,
} from './bytes.ts';
import { EPHEMERAL_SECRET_BYTES, type SrpVerifierRecord } from './client.ts';
import {
  clientProof,
  multiplier,
  scrambler,
  serverPremaster,
  serverProof,
  serverPublic,
  sessionKey,
  srpIdentity,
} from './core.ts';
import { SrpError, type SrpErrorCode } from './errors.ts';
import { CANOPY_SRP_PROFILE, type SrpProfile } from './profile.ts';
import { groupElementToHex, parseGroupElement, parseProof, parseSalt } from './wire.ts';

/**
 * The challenge between start and finish. Plain strings, so it can be kept in Redis or a table under the
 * `challengeId`. Secret (it holds b): never send it to the client. Use it for one finish attempt only and
 * let it expire after a few minutes: each attempt is one online password guess.
 */
export interface SrpServerState {
  readonly identity: string;
  readonly salt: string;
  readonly verifier: string;
  readonly b: string;
  readonly B: string;
}

export interface SrpServerChallenge {
  /** Answered to `POST /sessions/srp/start` together with the account's salt. */
  readonly B: string;
  readonly state: SrpServerState;
}

/**
 * Step 1: B = k*v + g^b for the stored record (or for `srpDecoyRecord` when the email is unknown).
 * @throws SrpError if the stored record is malformed (a server-side data error, not a client one)
 */
export async function srpServerStart(
  record: SrpVerifierRecord & { email: string },
  profile: SrpProfile = CANOPY_SRP_PROFILE,
): Promise<SrpServerChallenge> {
  return srpServerStartWithSecret(record, randomBytes(EPHEMERAL_SECRET_BYTES), profile);
}

/** `srpServerStart` with a chosen b, for known-answer tests only. */
export async function srpServerStartWithSecret(
  record: SrpVerifierRecord & { email: string },
  b: Bytes,
  profile: SrpProfile = CANOPY_SRP_PROFILE,
): Promise<SrpServerChallenge> {
  parseSalt(record.salt);
  const v = parseGroupElement(record.verifier, 'verifier', profile);
  const B = serverPublic(profile, await multiplier(profile), v, bytesToBigInt(b));
  // B ≡ 0 needs g^b ≡ -k*v: with a random 256-bit b it does not happen, but a chosen b must not slip through.
  if (B === 0n) throw new SrpError('invalid_public_value', 'b gives B = 0');
  const state: SrpServerState = {
    identity: srpIdentity(record.email),
    salt: record.salt.toLowerCase(),
    verifier: record.verifier.toLowerCase(),
    b: bytesToHex(b),
    B: groupElementToHex(B, profile),
  };
  return { B: state.B, state };
}

export type SrpServerFinish =
  | { readonly ok: true; readonly M2: string; readonly K: Bytes }
  /** Answer 401 `invalid_credentials` whatever the code: it is for logs and metrics only. */
  | { readonly ok: false; readonly code: SrpErrorCode; readonly message: string };

/**
 * Step 2: checks the client's A and M1. Returns M2 only if M1 proves the client knew the password; never
 * throws for anything the client sent.
 */
export async function srpServerFinish(
  state: SrpServerState,
  client: { A: string; M1: string },
  profile: SrpProfile = CANOPY_SRP_PROFILE,
): Promise<SrpServerFinish> {
  try {
    const A = parseGroupElement(client.A, 'A', profile);
    const M1 = parseProof(client.M1, 'M1', profile);
    const salt = parseSalt(state.salt);
    const v = parseGroupElement(state.verifier, 'verifier', profile);
    const B = parseGroupElement(state.B, 'B', profile);
    const b = bytesToBigInt(hexToBytes(state.b, 'b', 1, profile.group.byteLength));

    const u = await scrambler(profile, A, B);
    if (u === 0n) throw new SrpError('invalid_public_value', 'A gives the scrambler u = 0');
    const K = await sessionKey(profile, serverPremaster(profile, { v, b, u, A }));
    const expectedM1 = await clientProof(profile, { identity: state.identity, salt, A, B, K });
    if (!constantTimeEqual(M1, expectedM1)) throw new SrpError('proof_mismatch', 'M1 does not match');
    const M2 = await serverProof(profile, { A, M1, K });
    return { ok: true, M2: bytesToHex(M2), K };
  } catch (error) {
    if (error instanceof SrpError) return { ok: false, code: error.code, message: error.message };
    throw error;
  }
}
