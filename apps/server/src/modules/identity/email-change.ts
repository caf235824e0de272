/**
 * Changing the account's email (after re-authentication): the new address must be free (409 email_taken: the
 * caller is signed in and has just proved their password, so this tells an attacker nothing they could not
 * learn by signing up), becomes unverified until the link mailed to it is used, and the old address is told.
 */
import { normaliseEmail } from '../../platform/crypto/index.ts';
import { isUniqueViolation } from '../../platform/db/errors.ts';
import type { AccountRow, AccountStore } from './account-store.ts';
import { nowMs, type Caller, type IdentityDeps } from './deps.ts';
import { emailTaken } from './errors.ts';
import type { SignUp } from './sign-up.ts';
import type { AccountTokens } from './tokens.ts';

export class EmailChange {
  constructor(
    private readonly deps: IdentityDeps,
    private readonly accounts: AccountStore,
    private readonly tokens: AccountTokens,
    private readonly signUp: SignUp,
  ) {}

  async change(row: AccountRow, newEmail: string, caller: Caller): Promise<void> {
    const before = await this.accounts.open(row);
    const email = normaliseEmail(newEmail);
    if (email === normaliseEmail(before.email)) return;
    if (await this.accounts.byEmail(email)) throw emailTaken();
    const [index, sealed] = await Promise.all([
      this.accounts.emailIndex(email),
      this.accounts.seal(row, 'email_sealed', email),
    ]);
    try {
      await this.accounts.update(row.id, {
        email_index: index,
        email_sealed: sealed,
        email_verified_at: null,
        updated_at: nowMs(this.deps),
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw emailTaken();
      throw err;
    }
    await this.tokens.voidAll(row.id, 'verify_email');
    await this.signUp.sendVerification({ ...before, email, emailVerified: false });
    this.deps.mailer.dispatch({
      kind: 'email_changed',
      to: before.email,
      subject: 'Your Canopy email address was changed',
      text: `The email address of your Canopy account was changed from this address to another one.\n\nIf you did not do this, someone else has your password: contact your administrator or the operator of this Canopy server.`,
    });
    await this.deps.audit.record(row.tenant_id, {
      action: 'email.changed',
      actorId: row.id,
      subjectId: row.id,
      ip: caller.ip,
    });
  }
}
