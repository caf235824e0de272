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

/**
 * The machine part of a key. Only VALID answers are kept, and those name a configured product, whose id is
 * `[a-z0-9-]+` (config.ts); a product with a newline (which the request schema lets through, to be refused
 * later) has no key, so the product and fingerprint parts can never run into each other.
 */
function machineKey(input: ValidateInput): string | undefined {
  if (input.product.includes('\n')) return undefined;
  return input.fingerprint === undefined ? input.product : `${input.product}\n${input.fingerprint}`;
}

/** Answers kept per caller at most (one per product and machine the caller validates from). */
const PER_CALLER = 64;

/**
 * Keyed by who (as the caller port says: the caller key, the same string object for as long as the caller
 * object lives, so its hash is computed once), then by what and where (product and machine): everything the
 * answer depends on besides the data the caches hold. A single key joined per request cost a 200-character
 * string to build, flatten and hash on every validation.
 */
export class WarmAnswers {
  private readonly callers: BoundedCache<Map<string, { at: number; answer: WarmAnswer }>>;

  constructor(maxCallers: number) {
    this.callers = new BoundedCache(maxCallers);
  }

  fresh(caller: LicensingCaller, input: ValidateInput, now: number): WarmAnswer | undefined {
    const machine = machineKey(input);
    const hit = machine === undefined ? undefined : this.callers.get(callerKey(caller))?.get(machine);
    return hit && now >= hit.at && now < hit.answer.until ? hit.answer : undefined;
  }

  set(caller: LicensingCaller, input: ValidateInput, answer: WarmAnswer, now: number): void {
    const machine = machineKey(input);
    if (machine === undefined) return;
    const key = callerKey(caller);
    let answers = this.callers.get(key);
    if (!answers) {
      answers = new Map();
      this.callers.set(key, answers);
    }
    if (!answers.has(machine) && answers.size >= PER_CALLER) {
      const oldest = answers.keys().next();
      if (!oldest.done) answers.delete(oldest.value);
    }
    answers.set(machine, { at: now, answer });
  }

  clear(): void {
    this.callers.clear();
  }
}
