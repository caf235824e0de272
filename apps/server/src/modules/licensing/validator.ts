/**
 * licenseValidator: the answer to `POST /licenses/validate`, the hottest route of the service. A cold answer is
 * one system-context read of the caller's seats and licences (two indexed selects) plus, for a machine, one
 * tenant read of the user's activations; a warm one is served from two small in-process caches (the caller's
 * licences for `callerTtlMs`, and a machine's last heartbeat until half an interval has passed). Writes on this
 * node clear the caches at once; other nodes see a change within `callerTtlMs`.
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import { withTenant } from '../../platform/db/tenant.ts';
import { isUniqueViolation } from '../../platform/db/errors.ts';
import { nonceMac } from './answer-binding.ts';
import { BoundedCache } from './bounded-cache.ts';
import { CODE_DETAILS, codeRank, type ValidationCode } from './codes.ts';
import { iso, parseProducts, type LicensingContext } from './context.ts';
import { effectiveStatus } from './licences.ts';
import { aliveSince, withOverage } from './policies.ts';
import type { LicensingCaller } from './ports.ts';
import { LicenseRepository, type CallerLicences, type LicenseRow } from './repo.ts';
import type { Policy, ValidateInput, ValidateReplyT, ValidationLicenseT } from './schemas.ts';
import { DelegatedTokenSigner, LicenseTokenIssuer, type LicenseTokenClaims } from './token.ts';
import { ReusableTokens } from './token-reuse.ts';
import { WarmAnswers, type WarmAnswer } from './warm-answers.ts';

interface Verdict {
  code: ValidationCode;
  detail?: string;
  license?: LicenseRow;
  policy?: Policy;
  activationId?: string;
  /** When the caller's licences behind a VALID verdict were read. */
  readAt?: number;
  /** Until when the machine's activation needs no new heartbeat (when the verdict involved a machine). */
  machineUntil?: number;
}

export interface ValidatorOptions {
  /** How long a node trusts what it read about a caller's licences. Default 5 s. */
  callerTtlMs?: number;
  maxCachedCallers?: number;
}

export class LicenseValidator {
  private readonly callers: BoundedCache<{ at: number; value: Promise<CallerLicences> }>;
  private readonly machines = new BoundedCache<{ id: string; beatAt: number }>(100_000);
  private readonly issuer: DelegatedTokenSigner;
  private readonly tokens: ReusableTokens;
  private readonly answers: WarmAnswers;
  private readonly callerTtlMs: number;

  constructor(
    private readonly ctx: LicensingContext,
    options: ValidatorOptions = {},
  ) {
    this.callerTtlMs = options.callerTtlMs ?? 5_000;
    this.callers = new BoundedCache(options.maxCachedCallers ?? 50_000);
    this.issuer = new DelegatedTokenSigner(new LicenseTokenIssuer(ctx.ports.signer), ctx.clock);
    this.tokens = new ReusableTokens(this.issuer, options.maxCachedCallers ?? 50_000);
    this.answers = new WarmAnswers(options.maxCachedCallers ?? 50_000);
  }

  invalidate(): void {
    this.callers.clear();
    this.machines.clear();
    this.tokens.clear();
    this.answers.clear();
  }

  /** After a platform key rotation on this node: new tokens get a delegation from the new key at once. */
  renewDelegation(): void {
    this.issuer.renew();
    this.tokens.clear();
    this.answers.clear();
  }

  /** The caller's licences, and when they were read (what is built on them may be trusted until `callerTtlMs` after). */
  private callerLicences(
    caller: LicensingCaller,
    now: number,
  ): { at: number; value: Promise<CallerLicences> } {
    const orgs = [...caller.orgs.keys()].sort();
    // An unverified email claims no seat (anyone could sign up with someone else's address).
    const email = caller.emailVerified ? caller.email : '';
    const key = `${email}|${orgs.join(',')}`;
    const hit = this.callers.get(key);
    if (hit && now >= hit.at && now - hit.at < this.callerTtlMs) return hit;
    // Concurrent requests of one caller share one read; a failed read is not cached.
    const value = (email ? this.ctx.people.holder(email) : Promise.resolve(undefined)).then((holder) =>
      this.ctx.directory.callerLicences(holder?.index, orgs),
    );
    const entry = { at: now, value };
    this.callers.set(key, entry);
    entry.value.catch(() => this.callers.delete(key));
    return entry;
  }

  /**
   * The answer as JSON when a warm one may be given again right now, without awaiting anything; undefined
   * otherwise (then `validate`). Same answer as `validate` would give, serialised once per warm answer and only
   * extended with this request's nonce and MAC: most validations are client restarts asking what they asked a
   * moment ago, and building and serialising the answer object was most of the route's own CPU time.
   */
  warmJson(caller: LicensingCaller, input: ValidateInput, macKey?: KeyObject): string | undefined {
    if (input.nonce !== undefined && macKey === undefined) return undefined;
    const answer = this.answers.fresh(caller, input, this.ctx.clock.now().getTime());
    if (!answer) return undefined;
    const open = (answer.open ??= JSON.stringify(answer.reply).slice(0, -1));
    if (input.nonce === undefined) return `${open}}`;
    const mac = nonceMac(macKey as KeyObject, input.nonce, answer.reply.code, answer.tokenHash);
    return `${open},"nonce":${JSON.stringify(input.nonce)},"nonceMac":"${mac}"}`;
  }

  /**
   * `macKey`: the nonce MAC key of the caller's bearer credential, when it sent one (answerKey in
   * answer-binding.ts). With it, the nonce is bound to the answer by `nonceMac` and the token is reused; without
   * it, the nonce is signed into a fresh token.
   */
  async validate(caller: LicensingCaller, input: ValidateInput, macKey?: KeyObject): Promise<ValidateReplyT> {
    const now = this.ctx.clock.now().getTime();
    const signNonce = input.nonce !== undefined && macKey === undefined;
    // A cookie caller's nonce goes into a fresh signature: nothing of its answer can be reused.
    let answer = signNonce ? undefined : this.answers.fresh(caller, input, now);
    if (!answer) {
      answer = await this.answer(caller, input, now, signNonce);
      if (!signNonce && answer.until > now) this.answers.set(caller, input, answer, now);
    }
    if (input.nonce === undefined) return answer.reply;
    const reply: ValidateReplyT = { ...answer.reply, nonce: input.nonce };
    if (macKey !== undefined) reply.nonceMac = nonceMac(macKey, input.nonce, reply.code, answer.tokenHash);
    return reply;
  }

  /** The answer without the nonce, and until when it may be given again (only a VALID one is, see warm-answers.ts). */
  private async answer(
    caller: LicensingCaller,
    input: ValidateInput,
    now: number,
    signNonce: boolean,
  ): Promise<WarmAnswer> {
    const verdict = await this.decide(caller, input, now);
    const reply: ValidateReplyT = {
      valid: verdict.code === 'VALID',
      code: verdict.code,
      detail: verdict.detail ?? CODE_DETAILS[verdict.code],
    };
    const { license: lic, policy } = verdict;
    if (!lic || !policy) return { reply, tokenHash: '', until: now };
    reply.license = this.licenseInfo(lic, policy, now, verdict.activationId);
    if (!reply.valid) return { reply, tokenHash: '', until: now };
    const claims = this.claims(caller, input, lic, policy, now);
    if (signNonce) {
      reply.token = await this.issuer.issue({ ...claims, nonce: String(input.nonce) });
      return { reply, tokenHash: '', until: now };
    }
    const reused = await this.tokens.get(claims, policy, now);
    reply.token = reused.token;
    // Trusted no longer than what it was built on: the caller's licences, the machine's beat, the licence's expiry.
    const until = Math.min(
      (verdict.readAt ?? now) + this.callerTtlMs,
      reused.until,
      verdict.machineUntil ?? Infinity,
      lic.expires_at === null ? Infinity : Number(lic.expires_at),
    );
    return { reply, tokenHash: reused.hash, until };
  }

  private licenseInfo(
    lic: LicenseRow,
    policy: Policy,
    now: number,
    activationId?: string,
  ): ValidationLicenseT {
    const info: ValidationLicenseT = {
      id: lic.id,
      orgId: lic.tenant_id,
      products: parseProducts(lic.products),
      status: effectiveStatus(lic, now),
      expiresAt: iso(lic.expires_at === null ? null : Number(lic.expires_at)),
      seatModel: policy.seatModel,
      heartbeatIntervalS: policy.heartbeatIntervalS,
    };
    if (activationId) info.activationId = activationId;
    return info;
  }

  private claims(
    caller: LicensingCaller,
    input: ValidateInput,
    lic: LicenseRow,
    policy: Policy,
    now: number,
  ): LicenseTokenClaims {
    const iat = Math.floor(now / 1000);
    const licExp = lic.expires_at === null ? undefined : Math.floor(Number(lic.expires_at) / 1000);
    const exp = Math.min(iat + policy.offlineGraceS, licExp ?? Number.MAX_SAFE_INTEGER);
    return {
      iss: this.ctx.publicUrl,
      sub: caller.accountId,
      email: caller.email,
      lic: lic.id,
      org: lic.tenant_id,
      product: input.product,
      products: parseProducts(lic.products),
      seat: policy.seatModel,
      ...(input.fingerprint !== undefined ? { fp: input.fingerprint } : {}),
      ...(licExp !== undefined ? { lexp: licExp } : {}),
      iat,
      exp,
    };
  }

  private async decide(caller: LicensingCaller, input: ValidateInput, now: number): Promise<Verdict> {
    if (!this.ctx.products.has(input.product)) return { code: 'UNKNOWN_PRODUCT' };
    const read = this.callerLicences(caller, now);
    const mine = await read.value;
    if (mine.licenses.length === 0) {
      return caller.emailVerified
        ? { code: 'NOT_FOUND' }
        : { code: 'NOT_FOUND', detail: 'Verify your email address first: seats are assigned by email.' };
    }
    const covering = mine.licenses.filter((l) => parseProducts(l.products).includes(input.product));
    if (covering.length === 0) return { code: 'PRODUCT_SCOPE_MISMATCH' };

    // Each licence that covers the product gets its own verdict: the first valid one wins, otherwise the one
    // that got furthest down the ordered list explains the refusal. Oldest licence first, for stable answers.
    covering.sort((a, b) => Number(a.created_at) - Number(b.created_at) || a.id.localeCompare(b.id));
    let best: Verdict | undefined;
    for (const lic of covering) {
      const verdict = await this.judge(caller, input, lic, mine, now);
      if (verdict.code === 'VALID') return { ...verdict, readAt: read.at };
      if (!best || codeRank(verdict.code) > codeRank(best.code)) best = verdict;
    }
    return best ?? { code: 'NOT_FOUND' };
  }

  private async judge(
    caller: LicensingCaller,
    input: ValidateInput,
    lic: LicenseRow,
    mine: CallerLicences,
    now: number,
  ): Promise<Verdict> {
    const policy = await this.ctx.policies.get(lic.policy_id);
    const base = { license: lic, policy };
    const status = effectiveStatus(lic, now);
    if (status === 'suspended') return { ...base, code: 'SUSPENDED' };
    if (status === 'expired') return { ...base, code: 'EXPIRED' };
    const seat = mine.seats.find((s) => s.tenant_id === lic.tenant_id && s.license_id === lic.id);
    if (seat?.status === 'deactivated') return { ...base, code: 'SEAT_DEACTIVATED' };
    // Named licences need an assigned seat; on a floating one any member of the org may take a free seat.
    const eligible =
      seat !== undefined || (policy.seatModel === 'floating' && caller.orgs.has(lic.tenant_id));
    if (!eligible) return { ...base, code: 'NO_SEAT' };
    const tracksMachines = policy.seatModel === 'floating' || policy.maxMachinesPerUser !== null;
    if (!tracksMachines) return { ...base, code: 'VALID' };
    if (input.fingerprint === undefined) return { ...base, code: 'FINGERPRINT_REQUIRED' };
    const machine = await this.activate(caller.email, input.fingerprint, null, lic, policy, now);
    if (typeof machine === 'string')
      return { ...base, code: machine, detail: this.machineDetail(machine, lic, policy) };
    const machineUntil = machine.beatAt + (policy.heartbeatIntervalS * 1000) / 2;
    return { ...base, code: 'VALID', activationId: machine.id, machineUntil };
  }

  private machineDetail(code: ValidationCode, lic: LicenseRow, policy: Policy): string {
    if (code === 'NO_SEAT')
      return `Every floating seat of this licence is in use (${Number(lic.seats)} seats).`;
    if (code === 'TOO_MANY_MACHINES') {
      return `You have ${policy.maxMachinesPerUser ?? 0} active machines on this licence, the most it allows; release one first.`;
    }
    return CODE_DETAILS[code];
  }

  /**
   * Finds or creates the activation of `fingerprint` for `email` (reviving a dead one), keeping its heartbeat
   * fresh. Returns the activation, or the code that refuses it.
   */
  async activate(
    email: string,
    fingerprint: string,
    name: string | null,
    lic: LicenseRow,
    policy: Policy,
    now: number,
  ): Promise<{ id: string; beatAt: number } | 'NO_SEAT' | 'TOO_MANY_MACHINES'> {
    const key = `${lic.tenant_id}|${lic.id}|${email}|${fingerprint}`;
    const halfBeat = (policy.heartbeatIntervalS * 1000) / 2;
    const cached = this.machines.get(key);
    if (cached && now >= cached.beatAt && now - cached.beatAt < halfBeat) return cached;

    const since = aliveSince(policy, now);
    // Keys are used outside the transaction (see SeatPersonalData.holder): the indexes, and the sealed columns of
    // the activation this may create.
    const people = this.ctx.people;
    const { index } = await people.holder(email);
    const fingerprintIndex = await people.fingerprintIndex(lic.tenant_id, fingerprint);
    const id = randomUUID();
    const sealed = await people.sealMachine(lic.tenant_id, id, fingerprint, name);
    const result = await withTenant(this.ctx.database, lic.tenant_id, async (scope) => {
      const repo = new LicenseRepository(scope);
      const machines = await repo.activations(lic.id, index);
      const existing = machines.find((m) => m.fingerprint_index === fingerprintIndex);
      if (existing && Number(existing.last_heartbeat_at) >= since) {
        await repo.touchActivation(existing.id, now);
        return { id: existing.id };
      }
      const alive = machines.filter((m) => Number(m.last_heartbeat_at) >= since);
      if (policy.seatModel === 'floating' && alive.length === 0) {
        const users = await repo.liveUsers(lic.id, since);
        if (users.length >= withOverage(Number(lic.seats), policy.overage)) return 'NO_SEAT' as const;
      }
      if (
        policy.maxMachinesPerUser !== null &&
        alive.length >= withOverage(policy.maxMachinesPerUser, policy.overage)
      ) {
        return 'TOO_MANY_MACHINES' as const;
      }
      if (existing) {
        await repo.touchActivation(existing.id, now);
        return { id: existing.id };
      }
      await repo.insertActivation({
        id,
        license_id: lic.id,
        email_index: index,
        fingerprint_index: fingerprintIndex,
        ...sealed,
        created_at: now,
        last_heartbeat_at: now,
      });
      return { id };
    }).catch(async (err: unknown) => {
      // Two first starts of one machine at once: the other request created it; use that one.
      if (!isUniqueViolation(err)) throw err;
      const again = await withTenant(this.ctx.database, lic.tenant_id, (scope) =>
        new LicenseRepository(scope).activations(lic.id, index),
      );
      const found = again.find((m) => m.fingerprint_index === fingerprintIndex);
      if (!found) throw err;
      return { id: found.id };
    });
    if (typeof result !== 'object') return result;
    const machine = { id: result.id, beatAt: now };
    this.machines.set(key, machine);
    return machine;
  }
}
