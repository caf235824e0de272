/**
 * Reuses a signed licence token across answers. An Ed25519 signature per answer was the largest single cost of
 * the validation route; the token only changes with its claims, so one token serves every answer with the same
 * claims (account, email, licence, org, products, seat model, machine, licence expiry, product) for a short
 * window. The nonce is then bound by the answer's MAC (answer-binding.ts), not by the token.
 *
 * What a reused token costs the client: its `exp` is up to the window earlier than a fresh one would be (at most
 * 1% of the offline grace, and never more than 10 minutes). A reused token is only ever handed out with a VALID
 * verdict computed for this request: the checks themselves are never skipped. Any licensing write clears it
 * (validator.invalidate), and so does a new delegation (a key rotation).
 */
import { BoundedCache } from './bounded-cache.ts';
import { tokenHash } from './answer-binding.ts';
import type { Policy } from './schemas.ts';
import type { DelegatedTokenSigner, LicenseTokenClaims } from './token.ts';

export const TOKEN_REUSE_MAX_S = 600;

/** How long one signed token is reused: 1% of the offline grace, at most TOKEN_REUSE_MAX_S. */
export function reuseWindowMs(policy: Pick<Policy, 'offlineGraceS'>): number {
  return Math.min(TOKEN_REUSE_MAX_S, Math.floor(policy.offlineGraceS / 100)) * 1000;
}

export interface ReusedToken {
  token: string;
  /** base64url SHA-256 of the token (what the answer MAC covers), computed once per token. */
  hash: string;
  /** Until when this token is handed out again. */
  until: number;
}

export class ReusableTokens {
  private readonly cache: BoundedCache<{ at: number; until: number; value: Promise<ReusedToken> }>;

  constructor(
    private readonly issuer: DelegatedTokenSigner,
    max: number,
  ) {
    this.cache = new BoundedCache(max);
  }

  clear(): void {
    this.cache.clear();
  }

  /** A token for `claims` (which must not carry a nonce): a reused one, or one signed now. */
  get(claims: LicenseTokenClaims, policy: Policy, now: number): Promise<ReusedToken> {
    // Every claim but the times names the token (the validator builds claims in one fixed key order).
    const { iat: _iat, exp: _exp, ...stable } = claims;
    const key = JSON.stringify(stable);
    const hit = this.cache.get(key);
    // (A clock that moved back, before the token was issued, gets a new one.)
    if (hit && now >= hit.at && now < hit.until) return hit.value;
    const until = now + reuseWindowMs(policy);
    const value = this.issuer.issue(claims).then((token) => ({ token, hash: tokenHash(token), until }));
    if (until > now) {
      this.cache.set(key, { at: now, until, value });
      value.catch(() => this.cache.delete(key));
    }
    return value;
  }
}
