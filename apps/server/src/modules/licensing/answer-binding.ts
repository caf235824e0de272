/**
 * Binds a validation answer to the client's nonce without a signature per answer: `nonceMac` is an
 * HMAC-SHA256 over the nonce, the code and the token's SHA-256, keyed by a secret derived from the caller's
 * bearer credential (which only the client and the server hold). packages/sdk `verifyValidationAnswer` checks
 * it; the inputs are the SDK's (`answerMacInput`), so both ends build the same bytes. A caller without a bearer
 * credential (a cookie session) gets the nonce signed inside the token instead (see validator.ts).
 */
import { createHash, createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { ANSWER_KEY_LABEL, answerMacInput } from '@canopy/sdk';

/** The bearer credential of an `Authorization` header, as the auth gate parses it; undefined otherwise. */
export function bearerCredential(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

/**
 * The per-credential MAC key (derived, so the credential itself is never used as a MAC key twice over). A
 * KeyObject: the HMAC of each answer then skips preparing the raw key (~10% of the MAC's cost).
 */
export function answerKey(credential: string): KeyObject {
  return createSecretKey(createHmac('sha256', credential).update(ANSWER_KEY_LABEL).digest());
}

/** base64url SHA-256 of a token, the form the MAC covers. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export function nonceMac(key: KeyObject, nonce: string, code: string, hashOfToken: string): string {
  return createHmac('sha256', key)
    .update(answerMacInput(nonce, code, hashOfToken))
    .digest('base64url');
}
