/**
 * GDPR: the export of an account's data (JSON) and its deletion. Deletion removes the account's sessions,
 * tokens, recovery codes and SRP challenges, takes it out of every org (deleting the orgs it was the only member
 * of, its personal org among them), deletes the account row, and crypto-shreds the personal org's keys, so that
 * any copy of its sealed personal data (replicas, backups) is unreadable too.
 */
import { SYSTEM_TENANT } from '../../platform/crypto/index.ts';
import { accountView, type AccountRow, type AccountStore } from './account-store.ts';
import { nowMs, type Caller, type IdentityDeps } from './deps.ts';
import type { OrgService } from './orgs.ts';
import type { SessionStore } from './sessions.ts';

export class AccountData {
  constructor(
    private readonly deps: IdentityDeps,
    private readonly accounts: AccountStore,
    private readonly orgs: OrgService,
    private readonly sessions: SessionStore,
  ) {}

  async export(row: AccountRow) {
    const account = await this.accounts.open(row);
    return {
      exportedAt: new Date(nowMs(this.deps)).toISOString(),
      account: {
        ...accountView(account),
        mfaEnabled: account.mfaEnabled,
        operator: account.operator,
        createdAt: new Date(account.createdAt).toISOString(),
      },
      orgs: await this.orgs.listForAccount(row.id),
      sessions: await this.sessions.list(row.id),
      auditEvents: await this.deps.audit.listForAccount(row.tenant_id, row.id),
    };
  }

  async delete(row: AccountRow, caller: Caller): Promise<void> {
    const destroyed = await this.orgs.leaveAll(row.id);
    await this.deps.database.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('sessions').where('account_id', '=', row.id).execute();
      await trx.deleteFrom('account_tokens').where('account_id', '=', row.id).execute();
      await trx.deleteFrom('recovery_codes').where('account_id', '=', row.id).execute();
      await trx.deleteFrom('srp_challenges').where('account_id', '=', row.id).execute();
      await trx.deleteFrom('accounts').where('id', '=', row.id).execute();
    });
    this.sessions.notifyRevoked(row.id);
    for (const orgId of destroyed) await this.deps.keys.shred(orgId);
    await this.deps.audit.record(SYSTEM_TENANT, {
      action: 'account.deleted',
      actorId: row.id,
      subjectId: row.id,
      detail: { orgsDeleted: destroyed.length },
      ip: caller.ip,
    });
  }
}
