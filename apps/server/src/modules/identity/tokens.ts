/** Single-use, expiring tokens sent by mail (verification, reset) or printed (operator setup). */
import type { Database } from '../../platform/db/connect.ts';
import type { Clock } from '../../platform/clock.ts';
import { hashToken, newId, newToken } from './secrets.ts';
import type { AccountTokenPurpose } from './tables.ts';

export class AccountTokens {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
  ) {}

  async issue(accountId: string | null, purpose: AccountTokenPurpose, ttlMs: number): Promise<string> {
    const { token, hash } = newToken();
    const now = this.clock.now().getTime();
    await this.database.db
      .insertInto('account_tokens')
      .values({
        id: newId(),
        token_hash: hash,
        account_id: accountId,
        purpose,
        expires_at: now + ttlMs,
        used_at: null,
        created_at: now,
      })
      .execute();
    return token;
  }

  /**
   * Uses a token up. Returns its account id (or null for tokens without an account), or undefined when it is
   * unknown, of another purpose, expired or used already. Two concurrent uses: only one update matches.
   */
  async consume(
    token: string,
    purpose: AccountTokenPurpose,
  ): Promise<{ accountId: string | null } | undefined> {
    if (token.length > 200) return undefined;
    const now = this.clock.now().getTime();
    const hash = hashToken(token);
    const row = await this.database.db
      .selectFrom('account_tokens')
      .selectAll()
      .where('token_hash', '=', hash)
      .executeTakeFirst();
    if (!row || row.purpose !== purpose || row.used_at !== null || Number(row.expires_at) <= now)
      return undefined;
    const r = await this.database.db
      .updateTable('account_tokens')
      .set({ used_at: now })
      .where('id', '=', row.id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1 ? { accountId: row.account_id } : undefined;
  }

  /** Voids every unused token of this purpose (of the account, or without one). */
  async voidAll(accountId: string | null, purpose: AccountTokenPurpose): Promise<void> {
    let q = this.database.db
      .updateTable('account_tokens')
      .set({ used_at: this.clock.now().getTime() })
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null);
    q = accountId === null ? q.where('account_id', 'is', null) : q.where('account_id', '=', accountId);
    await q.execute();
  }
}
