/**
 * The online check of a `POST /licenses/validate` answer: its licence token verifies offline
 * (`verifyLicenseToken`), and the answer is fresh, i.e. it answers the nonce this client just sent.
 *
 * The server reuses one signed token for a while (an Ed25519 signature per answer was most of the route's CPU),
 * so the nonce is not inside the token: the answer carries `nonceMac`, an HMAC-SHA256 over the nonce, the
 * answer's code and the token's SHA-256, keyed by a secret derived from the bearer credential the client sent.
 * Both ends hold that credential, nobody else does, so a replayed answer (another nonce) or a replayed token
 * under a new nonce is refused. A token that carries `nonce` itself (an answer to a cookie session, which has
 * no bearer credential to key a MAC) is checked as before.
 */
import {
  verifyLicenseToken,
  type LicenseJwks,
  type LicenseTokenResult,
  type VerifyOptions,
} from './verify.ts';

/** Domain-separation labels; the server (apps/server licensing) builds the same inputs from these. */
export const ANSWER_KEY_LABEL = 'canopy/v1/license-answer-key';
export const ANSWER_MAC_LABEL = 'canopy/v1/license-answer';

/** The bytes the answer MAC covers. `tokenHash`: base64url SHA-256 of the token's ASCII, '' without a token. */
export function answerMacInput(nonce: string, code: string, tokenHash: string): string {
  return `${ANSWER_MAC_LABEL}\n${nonce}\n${code}\n${tokenHash}`;
}

/** The fields of a validation answer this check reads (the rest of the answer is not covered). */
export interface ValidationAnswer {
  valid: boolean;
  code: string;
  token?: string;
  nonce?: string;
  nonceMac?: string;
}

export interface AnswerOptions extends Omit<VerifyOptions, 'nonce'> {
  /** The nonce this client sent with the request. */
  nonce: string;
  /** The bearer token this client sent (`Authorization: Bearer <credential>`). */
  credential: string;
}

export type AnswerResult = LicenseTokenResult | { valid: false; reason: 'not_valid' | 'bad_nonce_mac' };

const encoder = new TextEncoder();

function toBase64Url(bytes: ArrayBuffer): string {
  let bin = '';
  for (const b of new Uint8Array(bytes)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function hmac(key: Uint8Array<ArrayBuffer>, data: string): Promise<ArrayBuffer> {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return crypto.subtle.sign('HMAC', k, encoder.encode(data));
}

/** The MAC the server should have sent for this nonce, code and token, under this credential. */
export async function expectedNonceMac(
  credential: string,
  nonce: string,
  code: string,
  token: string | undefined,
): Promise<string> {
  const key = new Uint8Array(await hmac(encoder.encode(credential), ANSWER_KEY_LABEL));
  const tokenHash = token ? toBase64Url(await crypto.subtle.digest('SHA-256', encoder.encode(token))) : '';
  return toBase64Url(await hmac(key, answerMacInput(nonce, code, tokenHash)));
}

/** Compares without an early exit, so that timing says nothing about how much of a guess was right. */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Checks that `answer` is a fresh, valid answer to this client's request: the nonce is the one sent, bound to
 * the answer (by the MAC, or inside the signed token), and the token verifies offline (`verifyLicenseToken`,
 * with the same product, fingerprint and time options). Never throws on a bad answer.
 */
export async function verifyValidationAnswer(
  answer: ValidationAnswer,
  jwks: LicenseJwks,
  options: AnswerOptions,
): Promise<AnswerResult> {
  if (!answer.valid || answer.code !== 'VALID' || typeof answer.token !== 'string')
    return { valid: false, reason: 'not_valid' };
  const { nonce, credential, ...tokenOptions } = options;
  if (answer.nonce !== nonce) return { valid: false, reason: 'nonce_mismatch' };
  const checked = await verifyLicenseToken(answer.token, jwks, tokenOptions);
  if (!checked.valid) return checked;
  if (checked.claims.nonce !== undefined) {
    // The nonce is signed into the token: that binds it already.
    return checked.claims.nonce === nonce ? checked : { valid: false, reason: 'nonce_mismatch' };
  }
  if (typeof answer.nonceMac !== 'string') return { valid: false, reason: 'bad_nonce_mac' };
  const expected = await expectedNonceMac(credential, nonce, answer.code, answer.token);
  return sameText(expected, answer.nonceMac) ? checked : { valid: false, reason: 'bad_nonce_mac' };
}
