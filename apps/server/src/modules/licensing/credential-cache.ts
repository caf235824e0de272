/**
 * What the validation route derives from a bearer credential: its digest (the rate-limit bucket, which may sit in
 * Redis) and the key of its answers' nonce MAC (answer-binding.ts). A client restart sends the same header many
 * times over a few seconds, and these derivations were a tenth of the route's CPU; so they are remembered for
 * `ttlMs`, keyed by the header itself. That map lives in this process only (like the request that carried the
 * header) and is never written anywhere.
 */
import type { KeyObject } from 'node:crypto';
import { answerKey, bearerCredential, tokenHash } from './answer-binding.ts';
import { BoundedCache } from './bounded-cache.ts';

export interface DerivedCredential {
  credential: string;
  /** base64url SHA-256 of the credential. */
  digest: string;
  /** The validation route's rate-limit bucket (`lic:` + digest), built once. */
  rateKey: string;
  macKey: KeyObject;
}

export class CredentialCache {
  private readonly cache: BoundedCache<{ at: number; derived: DerivedCredential }>;

  constructor(
    private readonly now: () => number,
    private readonly ttlMs = 5_000,
    max = 50_000,
  ) {
    this.cache = new BoundedCache(max);
  }

  /** The derivations of an `Authorization` header's bearer credential; undefined without one. */
  of(header: string | undefined): DerivedCredential | undefined {
    if (!header) return undefined;
    const now = this.now();
    const hit = this.cache.get(header);
    if (hit && now >= hit.at && now - hit.at < this.ttlMs) return hit.derived;
    const credential = bearerCredential(header);
    if (!credential) return undefined;
    const digest = tokenHash(credential);
    const derived = { credential, digest, rateKey: `lic:${digest}`, macKey: answerKey(credential) };
    this.cache.set(header, { at: now, derived });
    return derived;
  }
}
