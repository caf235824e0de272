/**
 * Forgotten password (202 whether or not the email has an account; a mail only when it has), reset by a
 * single-use 30-minute token (which revokes every session of the account), and password change.
 */
import { normaliseEmail } from '../../platform/crypto/index.ts';
import type { AccountRow, AccountStore } from './account-store.ts';
import { nowMs, type Caller, type IdentityDeps } from './deps.ts';
import { invalidToken, weakPassword } from './errors.ts';
import { passwordProblems } from './passwords.ts';
import type { SessionStore } from './sessions.ts';
import { passwordSecrets } from './sign-up.ts';
import type { AccountTokens } from './tokens.ts';

export class PasswordReset {
  constructor(
    private readonly deps: IdentityDeps,
    private readonly accounts: AccountStore,
    private readonly sessions: SessionStore,
    private readonly tokens: AccountTokens,
  ) {}

  async forgot(email: string, caller: Caller): Promise<void> {
    const { limiter, settings } = this.deps;
    await limiter.hit(`forgot:ip:${caller.ip}`, settings.rateLimits.forgotPerIp);
    const index = await this.accounts.emailIndex(email);
    await limiter.hit(`forgot:email:${index}`, settings.rateLimits.forgotPerEmail);
    const row = await this.accounts.byEmail(email);
    if (!row) return;
    const token = await this.tokens.issue(row.id, 'reset_password', settings.resetTokenTtlMs);
    this.deps.mailer.dispatch({
      kind: 'reset_password',
      to: normaliseEmail(email),
      template: {
        name: 'reset_password',
        data: {
          link: `${this.deps.publicUrl}/reset-password?token=${token}`,
          expiresInMinutes: String(Math.round(settings.resetTokenTtlMs / 60_000)),
        },
      },
      subject: 'Reset your Canopy password',
      text: `Someone (perhaps you) asked to reset the password of your Canopy account.\n\nChoose a new password here:\n${this.deps.publicUrl}/reset-password?token=${token}\n\nThe link can be used once and expires in ${Math.round(settings.resetTokenTtlMs / 60_000)} minutes. Every signed-in device will be signed out.\nIf it was not you, ignore this message: your password stays as it is.`,
    });
  }

  private async setPassword(
    row: AccountRow,
    password: string,
    extra: { email_verified_at?: number } = {},
  ): Promise<void> {
    const account = await this.accounts.open(row);
    const { hash, srp } = await passwordSecrets(this.deps, account.email, password);
    const verifier = await this.accounts.seal(row, 'srp_verifier_sealed', srp.verifier);
    await this.accounts.update(row.id, {
      password_hash: hash,
      srp_salt: srp.salt,
      srp_verifier_sealed: verifier,
      updated_at: nowMs(this.deps),
      ...extra,
    });
  }

  async reset(token: string, password: string, caller: Caller): Promise<void> {
    await this.deps.limiter.hit(`token:ip:${caller.ip}`, this.deps.settings.rateLimits.tokenPerIp);
    // Check the new password before using the token up, so that a refused password leaves the link usable.
    const problems = passwordProblems(password);
    if (problems.length) throw weakPassword(problems);
    if (token.length > 200) throw invalidToken();
    const used = await this.tokens.consume(token, 'reset_password');
    const row = used?.accountId ? await this.accounts.byId(used.accountId) : undefined;
    if (!row) throw invalidToken();
    // Receiving the mail proves the address, too.
    await this.setPassword(
      row,
      password,
      row.email_verified_at === null ? { email_verified_at: nowMs(this.deps) } : {},
    );
    await this.tokens.voidAll(row.id, 'reset_password');
    const revoked = await this.sessions.revokeAll(row.id);
    await this.deps.audit.record(row.tenant_id, {
      action: 'password.reset',
      actorId: row.id,
      subjectId: row.id,
      detail: { sessionsRevoked: revoked },
      ip: caller.ip,
    });
  }

  /** A signed-in change (after re-authentication): every other session is revoked. */
  async change(row: AccountRow, currentSessionId: string, password: string, caller: Caller): Promise<void> {
    await this.setPassword(row, password);
    const revoked = await this.sessions.revokeAll(row.id, currentSessionId);
    await this.deps.audit.record(row.tenant_id, {
      action: 'password.changed',
      actorId: row.id,
      subjectId: row.id,
      detail: { sessionsRevoked: revoked },
      ip: caller.ip,
    });
  }
}
