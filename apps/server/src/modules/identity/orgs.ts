/**
 * Organisations (tenants), memberships and invitations. Every read and write of these tenant-owned tables goes
 * through `OrgRepository`, built inside `withTenant(orgId)`; the one query across tenants (an account's own
 * memberships, for GET /me) runs in a named system context.
 */
import {
  withSystemContext,
  withTenant,
  TenantRepository,
  type TenantScope,
} from '../../platform/db/tenant.ts';
import { normaliseEmail } from '../../platform/crypto/index.ts';
import { badRequest, notFound } from '../../platform/errors.ts';
import type { OrgRole } from '../../platform/http/auth.ts';
import type { Account, AccountStore } from './account-store.ts';
import { nowMs, type Caller, type IdentityDeps } from './deps.ts';
import { invitationEmailMismatch, invalidToken, lastAdmin } from './errors.ts';
import { hashToken, newId, newToken } from './secrets.ts';
import type { InvitationsTable } from './tables.ts';

export interface OrgView {
  id: string;
  name: string;
  personal: boolean;
  role: OrgRole;
}

export interface MemberView {
  accountId: string;
  email: string;
  firstName: string;
  lastName: string;
  role: OrgRole;
}

class OrgRepository extends TenantRepository {
  async create(row: {
    name_sealed: Buffer;
    personal: number;
    created_by: string | null;
    created_at: number;
  }) {
    await this.trx
      .insertInto('orgs')
      .values({ ...row, tenant_id: this.tenantId })
      .execute();
  }

  get() {
    return this.selectFrom('orgs').selectAll().executeTakeFirst();
  }

  async addMember(accountId: string, role: OrgRole, now: number) {
    await this.insertInto('memberships', { account_id: accountId, role, created_at: now });
  }

  member(accountId: string) {
    return this.selectFrom('memberships').selectAll().where('account_id', '=', accountId).executeTakeFirst();
  }

  members() {
    return this.selectFrom('memberships').selectAll().orderBy('created_at').execute();
  }

  async setRole(accountId: string, role: OrgRole) {
    await this.updateTable('memberships').set({ role }).where('account_id', '=', accountId).execute();
  }

  async removeMember(accountId: string) {
    const r = await this.deleteFrom('memberships').where('account_id', '=', accountId).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }

  async adminCount() {
    const rows = await this.selectFrom('memberships')
      .select('account_id')
      .where('role', '=', 'admin')
      .execute();
    return rows.length;
  }

  async addInvitation(row: Omit<InvitationsTable, 'tenant_id'>) {
    await this.insertInto('invitations', row);
  }

  invitationByHash(hash: string) {
    return this.selectFrom('invitations').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  }

  async acceptInvitation(id: string, now: number) {
    const r = await this.updateTable('invitations')
      .set({ accepted_at: now })
      .where('id', '=', id)
      .where('accepted_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Deletes the org and everything of it this module owns (its audit log included). */
  async destroy() {
    await this.deleteFrom('invitations').execute();
    await this.deleteFrom('memberships').execute();
    await this.deleteFrom('audit_events').execute();
    await this.deleteFrom('orgs').execute();
  }
}

/** Invitation links carry the org id, so that the invitation is found inside its tenant. */
const INVITATION_SEPARATOR = '.';

export class OrgService {
  constructor(
    private readonly deps: IdentityDeps,
    private readonly accounts: AccountStore,
    /** Told each account whose memberships changed (identity publishes MEMBERSHIPS_CHANGED_CHANNEL with it). */
    private readonly membershipsChanged: (accountId: string) => void = () => {},
  ) {}

  private sealName(orgId: string, name: string) {
    return this.deps.cipher.seal(orgId, { table: 'orgs', id: orgId, column: 'name_sealed' }, name);
  }

  private openName(orgId: string, sealed: Buffer) {
    return this.deps.cipher.openText(orgId, { table: 'orgs', id: orgId, column: 'name_sealed' }, sealed);
  }

  /** Creates an org with `accountId` as its first admin. */
  async create(
    orgId: string,
    accountId: string,
    name: string,
    personal: boolean,
    /** Runs in the same transaction first (sign-up inserts the account there, so that both exist or neither). */
    before?: (scope: TenantScope) => Promise<void>,
  ): Promise<OrgView> {
    const sealed = await this.sealName(orgId, name);
    const now = nowMs(this.deps);
    await withTenant(this.deps.database, orgId, async (scope) => {
      if (before) await before(scope);
      const repo = new OrgRepository(scope);
      await repo.create({
        name_sealed: sealed,
        personal: personal ? 1 : 0,
        created_by: accountId,
        created_at: now,
      });
      await repo.addMember(accountId, 'admin', now);
    });
    return { id: orgId, name, personal, role: 'admin' };
  }

  async get(orgId: string, accountId: string): Promise<OrgView> {
    const found = await withTenant(this.deps.database, orgId, async (scope) => {
      const repo = new OrgRepository(scope);
      return { org: await repo.get(), member: await repo.member(accountId) };
    });
    if (!found.org || !found.member) throw notFound();
    return {
      id: orgId,
      name: await this.openName(orgId, found.org.name_sealed),
      personal: found.org.personal === 1,
      role: found.member.role,
    };
  }

  async listForAccount(accountId: string): Promise<OrgView[]> {
    const rows = await withSystemContext(
      this.deps.database,
      "identity: list an account's own memberships",
      (trx) =>
        trx
          .selectFrom('memberships')
          .innerJoin('orgs', 'orgs.tenant_id', 'memberships.tenant_id')
          .select([
            'orgs.tenant_id',
            'orgs.name_sealed',
            'orgs.personal',
            'memberships.role',
            'memberships.created_at',
          ])
          .where('memberships.account_id', '=', accountId)
          .orderBy('memberships.created_at')
          .execute(),
    );
    const out: OrgView[] = [];
    for (const r of rows)
      out.push({
        id: r.tenant_id,
        name: await this.openName(r.tenant_id, r.name_sealed),
        personal: r.personal === 1,
        role: r.role,
      });
    return out;
  }

  async members(orgId: string): Promise<MemberView[]> {
    const rows = await withTenant(this.deps.database, orgId, (scope) => new OrgRepository(scope).members());
    const out: MemberView[] = [];
    for (const m of rows) {
      const row = await this.accounts.byId(m.account_id);
      if (!row) continue;
      const a = await this.accounts.open(row);
      out.push({
        accountId: a.id,
        email: a.email,
        firstName: a.firstName,
        lastName: a.lastName,
        role: m.role,
      });
    }
    return out;
  }

  async setRole(orgId: string, accountId: string, role: OrgRole, caller: Caller): Promise<void> {
    const before = await withTenant(this.deps.database, orgId, async (scope) => {
      const repo = new OrgRepository(scope);
      const member = await repo.member(accountId);
      if (!member) throw notFound();
      if (member.role === 'admin' && role !== 'admin' && (await repo.adminCount()) <= 1) throw lastAdmin();
      await repo.setRole(accountId, role);
      return member.role;
    });
    if (before !== role) {
      this.membershipsChanged(accountId);
      await this.deps.audit.record(orgId, {
        action: 'role.changed',
        actorId: caller.accountId,
        subjectId: accountId,
        detail: { from: before, to: role },
        ip: caller.ip,
      });
    }
  }

  async removeMember(orgId: string, accountId: string, caller: Caller): Promise<void> {
    await withTenant(this.deps.database, orgId, async (scope) => {
      const repo = new OrgRepository(scope);
      const member = await repo.member(accountId);
      if (!member) throw notFound();
      const org = await repo.get();
      if (org?.personal === 1)
        throw badRequest('personal_org', 'A personal organisation has exactly one member.');
      if (member.role === 'admin' && (await repo.adminCount()) <= 1) throw lastAdmin();
      await repo.removeMember(accountId);
    });
    this.membershipsChanged(accountId);
    await this.deps.audit.record(orgId, {
      action: 'member.removed',
      actorId: caller.accountId,
      subjectId: accountId,
      ip: caller.ip,
    });
  }

  async invite(orgId: string, email: string, role: OrgRole, caller: Caller & { accountId: string }) {
    const id = newId();
    const { token, hash } = newToken();
    const now = nowMs(this.deps);
    const expiresAt = now + this.deps.settings.invitationTtlMs;
    const emailSealed = await this.deps.cipher.seal(
      orgId,
      { table: 'invitations', id, column: 'email_sealed' },
      normaliseEmail(email),
    );
    const org = await withTenant(this.deps.database, orgId, async (scope) => {
      const repo = new OrgRepository(scope);
      const found = await repo.get();
      if (!found) throw notFound();
      if (found.personal === 1)
        throw badRequest(
          'personal_org',
          'A personal organisation has exactly one member; create an org to invite people.',
        );
      await repo.addInvitation({
        id,
        email_sealed: emailSealed,
        role,
        token_hash: hash,
        invited_by: caller.accountId,
        expires_at: expiresAt,
        accepted_at: null,
        created_at: now,
      });
      return found;
    });
    const orgName = await this.openName(orgId, org.name_sealed);
    const link = `${this.deps.publicUrl}/invitations/accept?token=${encodeURIComponent(`${orgId}${INVITATION_SEPARATOR}${token}`)}`;
    this.deps.mailer.dispatch({
      kind: 'invitation',
      to: normaliseEmail(email),
      subject: `You are invited to ${orgName} on Canopy`,
      text: `You have been invited to join ${orgName} on Canopy as ${role}.\n\nAccept the invitation (sign in or create an account with this email address first):\n${link}\n\nThe link expires in ${Math.round(this.deps.settings.invitationTtlMs / 86_400_000)} days.`,
    });
    await this.deps.audit.record(orgId, {
      action: 'invitation.created',
      actorId: caller.accountId,
      subjectId: id,
      detail: { role },
      ip: caller.ip,
    });
    return { id, email: normaliseEmail(email), role, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** Joins the invitation's org, if it was sent to this account's email. */
  async accept(fullToken: string, account: Account, caller: Caller): Promise<OrgView> {
    const cut = fullToken.indexOf(INVITATION_SEPARATOR);
    const orgId = cut > 0 ? fullToken.slice(0, cut) : '';
    const token = fullToken.slice(cut + 1);
    if (!orgId || orgId.length > 64 || !token) throw invalidToken();
    const now = nowMs(this.deps);
    const invitation = await withTenant(this.deps.database, orgId, (scope) =>
      new OrgRepository(scope).invitationByHash(hashToken(token)),
    );
    if (!invitation || invitation.accepted_at !== null || Number(invitation.expires_at) <= now)
      throw invalidToken();
    const invited = await this.deps.cipher.openText(
      orgId,
      { table: 'invitations', id: invitation.id, column: 'email_sealed' },
      invitation.email_sealed,
    );
    if (invited !== normaliseEmail(account.email)) throw invitationEmailMismatch();
    await withTenant(this.deps.database, orgId, async (scope) => {
      const repo = new OrgRepository(scope);
      if (!(await repo.acceptInvitation(invitation.id, now))) throw invalidToken();
      if (!(await repo.member(account.id))) await repo.addMember(account.id, invitation.role, now);
    });
    this.membershipsChanged(account.id);
    await this.deps.audit.record(orgId, {
      action: 'invitation.accepted',
      actorId: account.id,
      subjectId: invitation.id,
      detail: { role: invitation.role },
      ip: caller.ip,
    });
    return this.get(orgId, account.id);
  }

  /** Removes the account from every org; deletes the orgs where it was the only member. Returns those org ids. */
  async leaveAll(accountId: string): Promise<string[]> {
    const orgs = await withSystemContext(
      this.deps.database,
      "identity: list an account's own memberships",
      (trx) =>
        trx.selectFrom('memberships').select('tenant_id').where('account_id', '=', accountId).execute(),
    );
    const destroyed: string[] = [];
    for (const { tenant_id: orgId } of orgs) {
      const gone = await withTenant(this.deps.database, orgId, async (scope) => {
        const repo = new OrgRepository(scope);
        const members = await repo.members();
        if (members.length <= 1) {
          await repo.destroy();
          return true;
        }
        await repo.removeMember(accountId);
        // An org must keep an admin: the longest-standing remaining member becomes one.
        if ((await repo.adminCount()) === 0) {
          const next = members.find((m) => m.account_id !== accountId);
          if (next) await repo.setRole(next.account_id, 'admin');
        }
        return false;
      });
      if (gone) destroyed.push(orgId);
    }
    return destroyed;
  }
}
