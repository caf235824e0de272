/**
 * Sign-up and email verification. Sign-up answers alike whether or not the email has an account (same status,
 * same shape, the same hashing work): for a taken email it mails the owner instead of creating anything. API.md's
 * `409 email_taken` is available behind CANOPY_SIGNUP_REVEALS_TAKEN_EMAIL=true (README.md, "Enumeration").
 */
import { srpRegister } from '@canopy/sdk';
import { normaliseEmail } from '../../platform/crypto/index.ts';
import { isUniqueViolation } from '../../platform/db/errors.ts';
import { accountView, type Account, type AccountStore } from './account-store.ts';
import { nowMs, type Caller, type IdentityDeps } from './deps.ts';
import { emailTaken, invalidToken, weakPassword } from './errors.ts';
import type { OrgService } from './orgs.ts';
import { hashPassword, passwordProblems } from './passwords.ts';
import { newId } from './secrets.ts';
import type { AccountTokens } from './tokens.ts';

export interface SignUpInput {
  email: string;
  password: string;
  firstName: string;
  lastName: string;
}

/** The password-derived secrets stored for an account: a slow hash and the SRP salt and verifier. */
export async function passwordSecrets(deps: IdentityDeps, email: string, password: string) {
  const problems = passwordProblems(password);
  if (problems.length) throw weakPassword(problems);
  const [hash, srp] = await Promise.all([
    hashPassword(password, deps.settings.passwordHash),
    srpRegister(normaliseEmail(email), password),
  ]);
  return { hash, srp };
}

export class AccountCreator {
  constructor(
    private readonly deps: IdentityDeps,
    private readonly accounts: AccountStore,
    private readonly orgs: OrgService,
  ) {}

  /** Creates the account and its personal org; undefined when the email is taken. */
  async create(
    input: SignUpInput,
    secrets: Awaited<ReturnType<typeof passwordSecrets>>,
    options: { verified?: boolean; operator?: boolean } = {},
  ): Promise<Account | undefined> {
    const id = newId();
    const orgId = newId();
    const base = { id, tenant_id: orgId };
    const email = normaliseEmail(input.email);
    const [emailIndex, emailSealed, firstSealed, lastSealed, verifierSealed] = await Promise.all([
      this.accounts.emailIndex(email),
      this.accounts.seal(base, 'email_sealed', email),
      this.accounts.seal(base, 'first_name_sealed', input.firstName),
      this.accounts.seal(base, 'last_name_sealed', input.lastName),
      this.accounts.seal(base, 'srp_verifier_sealed', secrets.srp.verifier),
    ]);
    const now = nowMs(this.deps);
    const orgName = `${input.firstName} ${input.lastName}`.trim() || 'Personal';
    try {
      // The account and its personal org in one transaction: both exist or neither.
      await this.orgs.create(orgId, id, orgName, true, async ({ trx }) => {
        await trx
          .insertInto('accounts')
          .values({
            ...base,
            email_index: emailIndex,
            email_sealed: emailSealed,
            first_name_sealed: firstSealed,
            last_name_sealed: lastSealed,
            email_verified_at: options.verified ? now : null,
            password_hash: secrets.hash,
            srp_salt: secrets.srp.salt,
            srp_verifier_sealed: verifierSealed,
            totp_secret_sealed: null,
            totp_pending_sealed: null,
            totp_enabled_at: null,
            totp_last_step: null,
            operator: options.operator ? 1 : 0,
            created_at: now,
            updated_at: now,
          })
          .execute();
      });
    } catch (err) {
      if (isUniqueViolation(err)) return undefined;
      throw err;
    }
    return {
      id,
      tenantId: orgId,
      email,
      firstName: input.firstName,
      lastName: input.lastName,
      emailVerified: Boolean(options.verified),
      mfaEnabled: false,
      operator: Boolean(options.operator),
      createdAt: now,
    };
  }
}

export class SignUp {
  constructor(
    private readonly deps: IdentityDeps,
    private readonly accounts: AccountStore,
    private readonly creator: AccountCreator,
    private readonly tokens: AccountTokens,
  ) {}

  async signUp(input: SignUpInput, caller: Caller) {
    const { limiter, settings } = this.deps;
    await limiter.hit(`signup:ip:${caller.ip}`, settings.rateLimits.signUpPerIp);
    const index = await this.accounts.emailIndex(input.email);
    await limiter.hit(`signup:email:${index}`, settings.rateLimits.signUpPerEmail);
    // The same work on both paths, so that the time taken does not tell whether the email has an account.
    const secrets = await passwordSecrets(this.deps, input.email, input.password);
    const existing = await this.accounts.byEmail(input.email);
    const created = existing ? undefined : await this.creator.create(input, secrets);
    if (!created) {
      if (settings.signUpRevealsTakenEmail) throw emailTaken();
      this.deps.mailer.dispatch({
        kind: 'account_exists',
        to: normaliseEmail(input.email),
        subject: 'Your Canopy account',
        text: `Someone (perhaps you) tried to create a Canopy account with this email address, which already has one.\n\nSign in, or choose a new password here:\n${this.deps.publicUrl}/forgot-password\n\nIf it was not you, you can ignore this message.`,
      });
      return {
        id: newId(),
        email: normaliseEmail(input.email),
        firstName: input.firstName,
        lastName: input.lastName,
        emailVerified: false,
      };
    }
    await this.sendVerification(created);
    await this.deps.audit.record(created.tenantId, {
      action: 'account.created',
      actorId: created.id,
      subjectId: created.id,
      ip: caller.ip,
    });
    return accountView(created);
  }

  async sendVerification(account: Account): Promise<void> {
    const token = await this.tokens.issue(account.id, 'verify_email', this.deps.settings.verifyTokenTtlMs);
    const link = `${this.deps.publicUrl}/verify-email?token=${token}`;
    const hours = Math.round(this.deps.settings.verifyTokenTtlMs / 3_600_000);
    this.deps.mailer.dispatch({
      kind: 'verify_email',
      to: account.email,
      template: {
        name: 'verify_email',
        data: { link, name: account.firstName, expiresInHours: String(hours) },
      },
      subject: 'Confirm your email address',
      text: `Hello ${account.firstName},\n\nconfirm your email address by opening this link:\n${this.deps.publicUrl}/verify-email?token=${token}\n\nThe link can be used once and expires in ${Math.round(this.deps.settings.verifyTokenTtlMs / 3_600_000)} hours.`,
    });
  }

  async verify(token: string, caller: Caller): Promise<Account> {
    await this.deps.limiter.hit(`token:ip:${caller.ip}`, this.deps.settings.rateLimits.tokenPerIp);
    const used = await this.tokens.consume(token, 'verify_email');
    const row = used?.accountId ? await this.accounts.byId(used.accountId) : undefined;
    if (!row) throw invalidToken();
    await this.accounts.update(row.id, { email_verified_at: nowMs(this.deps), updated_at: nowMs(this.deps) });
    await this.deps.audit.record(row.tenant_id, {
      action: 'account.verified',
      actorId: row.id,
      subjectId: row.id,
      ip: caller.ip,
    });
    return { ...(await this.accounts.open(row)), emailVerified: true };
  }
}
