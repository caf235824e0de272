/**
 * Login with a password or with SRP-6a, the second step (TOTP) when MFA is on, and re-authentication. Wrong
 * email and wrong password get the same answer (401 invalid_credentials) after the same work: an unknown email
 * is checked against a dummy hash, and SRP answers it with a decoy (packages/sdk, srpDecoyRecord).
 */
import { srpDecoyRecord, srpServerFinish, srpServerStart, type SrpServerState } from '@canopy/sdk';
import { normaliseEmail, SYSTEM_TENANT } from '../../platform/crypto/index.ts';
import { accountView, type AccountRow, type AccountStore } from './account-store.ts';
import { nowMs, type Caller, type IdentityDeps } from './deps.ts';
import { invalidCredentials, invalidTotp, mfaRequired } from './errors.ts';
import type { Mfa } from './mfa.ts';
import { DummyPasswordCheck, hashPassword, needsRehash, verifyPassword } from './passwords.ts';
import { newId } from './secrets.ts';
import type { SessionStore } from './sessions.ts';
import type { SessionsTable } from './tables.ts';

export interface LoginResult {
  token: string;
  expiresAt: string;
  account: ReturnType<typeof accountView>;
}

interface ChallengeState {
  state: SrpServerState;
  A: string;
}

const challengeRef = (id: string) => ({ table: 'srp_challenges', id, column: 'state_sealed' });

export class Login {
  private readonly dummy = new DummyPasswordCheck();
  private decoySecret: Promise<Uint8Array> | undefined;

  constructor(
    private readonly deps: IdentityDeps,
    private readonly accounts: AccountStore,
    private readonly sessions: SessionStore,
    private readonly mfa: Mfa,
  ) {}

  /** The rate limits every login attempt (password or SRP start) counts against. Returns the email's index. */
  private async throttle(email: string, caller: Caller): Promise<string> {
    const { limiter, settings } = this.deps;
    await limiter.hit(`login:ip:${caller.ip}`, settings.rateLimits.loginPerIp);
    const index = await this.accounts.emailIndex(email);
    await limiter.hit(`login:account:${index}:${caller.ip}`, settings.rateLimits.loginPerAccountAndIp);
    if (!(await limiter.remembers(`login:known-ip:${index}:${caller.ip}`))) {
      await limiter.hit(`login:account:${index}`, settings.rateLimits.loginPerAccount);
    }
    return index;
  }

  private async failed(
    row: AccountRow | undefined,
    method: string,
    reason: string,
    caller: Caller,
  ): Promise<void> {
    await this.deps.audit.record(row?.tenant_id ?? SYSTEM_TENANT, {
      action: 'login.failed',
      subjectId: row?.id ?? null,
      detail: { method, reason },
      ip: caller.ip,
    });
  }

  /** The second factor, then the session. */
  private async complete(
    row: AccountRow,
    method: SessionsTable['method'],
    totp: string | undefined,
    caller: Caller,
  ): Promise<LoginResult> {
    if (row.totp_enabled_at !== null) {
      if (!totp) {
        await this.failed(row, method, 'mfa_required', caller);
        throw mfaRequired();
      }
      if (!(await this.mfa.check(row, totp, caller))) {
        await this.failed(row, method, 'invalid_totp', caller);
        throw invalidTotp();
      }
    }
    const session = await this.sessions.create(row.id, method);
    const account = await this.accounts.open(row);
    const index = await this.accounts.emailIndex(account.email);
    await this.deps.limiter.remember(`login:known-ip:${index}:${caller.ip}`, this.deps.settings.knownIpTtlMs);
    await this.deps.audit.record(row.tenant_id, {
      action: 'login.succeeded',
      actorId: row.id,
      subjectId: session.id,
      detail: { method, mfa: row.totp_enabled_at !== null },
      ip: caller.ip,
    });
    return {
      token: session.token,
      expiresAt: new Date(session.expiresAt).toISOString(),
      account: accountView(account),
    };
  }

  async withPassword(
    input: { email: string; password: string; totp?: string | undefined },
    caller: Caller,
  ): Promise<LoginResult> {
    await this.throttle(input.email, caller);
    const row = await this.accounts.byEmail(input.email);
    if (!row?.password_hash) {
      await this.dummy.run(input.password, this.deps.settings.passwordHash);
      await this.failed(row, 'password', 'invalid_credentials', caller);
      throw invalidCredentials();
    }
    if (!(await verifyPassword(row.password_hash, input.password))) {
      await this.failed(row, 'password', 'invalid_credentials', caller);
      throw invalidCredentials();
    }
    if (needsRehash(row.password_hash, this.deps.settings.passwordHash)) {
      const upgraded = await hashPassword(input.password, this.deps.settings.passwordHash);
      await this.accounts.update(row.id, { password_hash: upgraded, updated_at: nowMs(this.deps) });
    }
    return this.complete(row, 'password', input.totp, caller);
  }

  /** The server secret behind decoys: derived from the system tenant's index key (stable, the same on every node). */
  private decoy(): Promise<Uint8Array> {
    this.decoySecret ??= this.deps.cipher
      .blindIndex(SYSTEM_TENANT, 'srp.decoy-secret', 'v1')
      .then((b64) => new Uint8Array(Buffer.from(b64, 'base64url')));
    return this.decoySecret;
  }

  async srpStart(
    input: { email: string; A: string },
    caller: Caller,
  ): Promise<{ challengeId: string; salt: string; B: string }> {
    await this.throttle(input.email, caller);
    const email = input.email.trim();
    const row = await this.accounts.byEmail(email);
    const real = row?.srp_salt && row.srp_verifier_sealed ? row : undefined;
    const record = real
      ? {
          email,
          salt: real.srp_salt ?? '',
          verifier: await this.accounts.openColumn(
            real,
            'srp_verifier_sealed',
            real.srp_verifier_sealed ?? Buffer.alloc(0),
          ),
        }
      : await srpDecoyRecord(await this.decoy(), email);
    const { B, state } = await srpServerStart(record);
    const id = newId();
    const now = nowMs(this.deps);
    const sealed = await this.deps.cipher.seal(
      SYSTEM_TENANT,
      challengeRef(id),
      JSON.stringify({ state, A: input.A } satisfies ChallengeState),
    );
    await this.deps.database.db
      .insertInto('srp_challenges')
      .values({
        id,
        account_id: real?.id ?? null,
        state_sealed: sealed,
        expires_at: now + this.deps.settings.srpChallengeTtlMs,
        created_at: now,
      })
      .execute();
    return { challengeId: id, salt: record.salt, B };
  }

  async srpFinish(
    input: { challengeId: string; M1: string; totp?: string | undefined },
    caller: Caller,
  ): Promise<LoginResult & { M2: string }> {
    const db = this.deps.database.db;
    const challenge = await db
      .selectFrom('srp_challenges')
      .selectAll()
      .where('id', '=', input.challengeId)
      .executeTakeFirst();
    // Single use: whoever deletes the row owns the attempt.
    const taken = challenge
      ? await db.deleteFrom('srp_challenges').where('id', '=', challenge.id).executeTakeFirst()
      : undefined;
    if (
      !challenge ||
      Number(taken?.numDeletedRows) !== 1 ||
      Number(challenge.expires_at) <= nowMs(this.deps)
    ) {
      throw invalidCredentials();
    }
    const { state, A } = JSON.parse(
      await this.deps.cipher.openText(SYSTEM_TENANT, challengeRef(challenge.id), challenge.state_sealed),
    ) as ChallengeState;
    const result = await srpServerFinish(state, { A, M1: input.M1 });
    const row = challenge.account_id ? await this.accounts.byId(challenge.account_id) : undefined;
    if (!result.ok || !row) {
      await this.failed(row, 'srp', result.ok ? 'unknown_account' : result.code, caller);
      throw invalidCredentials();
    }
    return { ...(await this.complete(row, 'srp', input.totp, caller)), M2: result.M2 };
  }

  /** Proves the password again within a session, for the sensitive routes (MFA, email, password, deletion). */
  async reauthenticate(
    row: AccountRow,
    sessionId: string,
    input: { password: string; totp?: string | undefined },
    caller: Caller,
  ): Promise<number> {
    await this.throttle(normaliseEmail((await this.accounts.open(row)).email), caller);
    if (!row.password_hash || !(await verifyPassword(row.password_hash, input.password))) {
      await this.failed(row, 'reauth', 'invalid_credentials', caller);
      throw invalidCredentials();
    }
    if (row.totp_enabled_at !== null) {
      if (!input.totp) throw mfaRequired();
      if (!(await this.mfa.check(row, input.totp, caller))) throw invalidTotp();
    }
    return this.sessions.markAuthenticated(sessionId);
  }

  /** Removes expired SRP challenges (abandoned logins). */
  async purgeChallenges(): Promise<void> {
    await this.deps.database.db
      .deleteFrom('srp_challenges')
      .where('expires_at', '<=', nowMs(this.deps))
      .execute();
  }
}
