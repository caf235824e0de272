/**
 * Decoy records for unknown emails, so that `POST /sessions/srp/start` does not reveal whether an account
 * exists. The server runs the ordinary `srpServerStart` on the decoy, so the answer has the same shape, the
 * same cost and the same behaviour as for a real account: the salt is stable per email (as a real one is),
 * B is fresh per request (as a real one is; a stable B would itself give the decoy away) and finish fails
 * with `proof_mismatch`, exactly like a wrong password.
 */
import { bigIntToBytes, bytesToBigInt, bytesToHex, concatBytes, utf8 } from './bytes.ts';
import type { SrpVerifierRecord } from './client.ts';
import { srpIdentity } from './core.ts';
import { SrpError } from './errors.ts';
import { CANOPY_SRP_PROFILE, type SrpProfile } from './profile.ts';
import { hmacSha256 } from './primitives.ts';
import { SALT_BYTES } from './wire.ts';

const MIN_SECRET_BYTES = 32;

/**
 * A fake `{email, salt, verifier}` derived with HMAC-SHA256 from a server secret (≥ 32 random bytes from the
 * server's configuration, stable across restarts and instances: if it changed, the decoy salt of an email would
 * change, which a real salt does only on a password change).
 * The verifier is a uniform integer in [1, N - 1] rather than g^x: g = 5 generates the whole group mod N, so the
 * two are alike, and skipping a modular exponentiation keeps the decoy no slower than a real lookup.
 */
export async function srpDecoyRecord(
  serverSecret: Uint8Array,
  email: string,
  profile: SrpProfile = CANOPY_SRP_PROFILE,
): Promise<SrpVerifierRecord & { email: string }> {
  if (serverSecret.length < MIN_SECRET_BYTES) {
    throw new SrpError(
      'invalid_server_secret',
      `the decoy secret must have at least ${MIN_SECRET_BYTES} bytes`,
    );
  }
  const identity = srpIdentity(email);
  const derive = (label: string): Promise<Uint8Array> =>
    hmacSha256(serverSecret, utf8(`canopy/srp-decoy/${label}\n${identity}`));

  const salt = (await derive('salt')).slice(0, SALT_BYTES);
  // 32 bytes more than N, so that reducing mod N leaves no measurable bias.
  const blocks = Math.ceil(profile.group.byteLength / 32) + 1;
  const stream = await Promise.all(Array.from({ length: blocks }, (_, i) => derive(`verifier/${i}`)));
  const { N } = profile.group;
  const verifier = (bytesToBigInt(concatBytes(...stream)) % (N - 1n)) + 1n;
  return {
    email: identity,
    salt: bytesToHex(salt),
    verifier: bytesToHex(bigIntToBytes(verifier, profile.group.byteLength)),
  };
}
