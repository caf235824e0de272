/**
 * Warm validation answers: a client restart mostly asks what it asked a moment ago. A VALID answer (without its
 * nonce and MAC, which the validator adds per request) is kept, per caller, product and machine, until the
 * first of: the caller's licences are `callerTtlMs` old (the same staleness as before this cache), the machine
 * needs a heartbeat, the reused token is due for re-signing, the licence expires. Any licensing write on this
 * node, or a `licensing.invalidate` message from another, clears it (validator.invalidate). Refusals are not
 * kept: they are rare, and some (TOO_MANY_MACHINES, floating NO_SEAT) read live activations.
 */
import { BoundedCache } from './bounded-cache.ts';
import type { LicensingCaller } from './ports.ts';
import type { ValidateInput, ValidateReplyT } from './schemas.ts';

export interface WarmAnswer {
  /** Shared between requests: copied, never changed, when a nonce is added. */
  reply: ValidateReplyT;
  /** base64url SHA-256 of `reply.token` ('' without one): what the nonce MAC covers. */
  tokenHash: string;
  /** Given again while now < until (and not before it was made: a clock moved back misses). */
  until: number;
  /** `reply` as JSON without its closing brace, once asked for (LicenseValidator.warmJson). */
  open?: string;
}

/** The caller part of a key, per caller object: the credential cache hands out the same object for seconds. */
const callerKeys = new WeakMap<LicensingCaller, string>();

function callerKey(caller: LicensingCaller): string {
  let key = callerKeys.get(caller);
  if (key === undefined) {
    const orgs = [...caller.orgs].map(([id, role]) => `${id}:${role}`).sort();
    key = JSON.stringify([caller.accountId, caller.email, caller.emailVerified, orgs]);
    callerKeys.set(caller, key);
  }
  return key;
}

/** Everything the answer depends on besides the data the caches hold: who (as the caller port says), what, where. */
export function warmKey(caller: LicensingCaller, input: ValidateInput): string {
  return `${callerKey(caller)}${JSON.stringify([input.product, input.fingerprint ?? null])}`;
}

export class WarmAnswers {
  private readonly cache: BoundedCache<{ at: number; answer: WarmAnswer }>;

  constructor(max: number) {
    this.cache = new BoundedCache(max);
  }

  fresh(key: string, now: number): WarmAnswer | undefined {
    const hit = this.cache.get(key);
    return hit && now >= hit.at && now < hit.answer.until ? hit.answer : undefined;
  }

  set(key: string, answer: WarmAnswer, now: number): void {
    this.cache.set(key, { at: now, answer });
  }

  clear(): void {
    this.cache.clear();
  }
}
