/**
 * Sessions: a 256-bit random token per login, stored as its SHA-256; an idle timeout (measured from the last
 * request) and an absolute one. The same token works as a bearer token (apps) and as the session cookie
 * (browser, with the CSRF header derived from it). Revoking deletes the row: a revoked token is simply unknown.
 */
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/connect.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import type { Authenticator, OrgRole, Principal } from '../../platform/http/auth.ts';
import { hashToken, newId, newToken } from './secrets.ts';
import type { IdentitySettings } from './settings.ts';
import type { SessionsTable } from './tables.ts';

/** Writing last_seen_at on every request would turn reads into writes; once a minute is enough for a 30 min idle timeout. */
const TOUCH_EVERY_MS = 60_000;

export interface NewSession {
  id: string;
  token: string;
  expiresAt: number;
}

export interface SessionInfo {
  id: string;
  method: SessionsTable['method'];
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
}

export class SessionStore implements Authenticator {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
    private readonly settings: Pick<IdentitySettings, 'sessionIdleMs' | 'sessionAbsoluteMs'>,
    /** Told the account whose sessions were revoked (identity publishes SESSIONS_REVOKED_CHANNEL with it). */
    private readonly onRevoked: (accountId: string) => void = () => {},
  ) {}

  /** Says that some of the account's sessions are gone, for whoever caches who a token belongs to. */
  notifyRevoked(accountId: string): void {
    this.onRevoked(accountId);
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  async create(accountId: string, method: SessionsTable['method']): Promise<NewSession> {
    const { token, hash } = newToken();
    const now = this.now();
    const id = newId();
    const expiresAt = now + this.settings.sessionAbsoluteMs;
    await this.database.db
      .insertInto('sessions')
      .values({
        id,
        token_hash: hash,
        account_id: accountId,
        method,
        created_at: now,
        last_seen_at: now,
        authenticated_at: now,
        expires_at: expiresAt,
      })
      .execute();
    return { id, token, expiresAt };
  }

  private alive(row: { last_seen_at: number; expires_at: number }, now: number): boolean {
    return now < Number(row.expires_at) && now - Number(row.last_seen_at) < this.settings.sessionIdleMs;
  }

  async resolve(token: string, via: Principal['via']): Promise<Principal | null> {
    if (token.length > 200) return null;
    const row = await this.database.db
      .selectFrom('sessions')
      .innerJoin('accounts', 'accounts.id', 'sessions.account_id')
      .select([
        'sessions.id',
        'sessions.account_id',
        'sessions.last_seen_at',
        'sessions.expires_at',
        'sessions.authenticated_at',
        'accounts.operator',
        'accounts.tenant_id',
      ])
      .where('sessions.token_hash', '=', hashToken(token))
      .executeTakeFirst();
    if (!row) return null;
    const now = this.now();
    if (!this.alive(row, now)) {
      await this.database.db.deleteFrom('sessions').where('id', '=', row.id).execute();
      return null;
    }
    if (now - Number(row.last_seen_at) >= TOUCH_EVERY_MS) {
      await this.database.db
        .updateTable('sessions')
        .set({ last_seen_at: now })
        .where('id', '=', row.id)
        .execute();
    }
    return {
      accountId: row.account_id,
      sessionId: row.id,
      via,
      operator: row.operator === 1,
      authenticatedAt: Number(row.authenticated_at),
      homeTenantId: row.tenant_id,
    };
  }

  async orgRole(accountId: string, orgId: string): Promise<OrgRole | null> {
    if (!orgId || orgId.length > 64) return null;
    const row = await withTenant(this.database, orgId, ({ trx }) =>
      trx
        .selectFrom('memberships')
        .select('role')
        .where('tenant_id', '=', orgId)
        .where('account_id', '=', accountId)
        .executeTakeFirst(),
    );
    return row?.role ?? null;
  }

  async markAuthenticated(sessionId: string): Promise<number> {
    const now = this.now();
    await this.database.db
      .updateTable('sessions')
      .set({ authenticated_at: now, last_seen_at: now })
      .where('id', '=', sessionId)
      .execute();
    return now;
  }

  async list(accountId: string): Promise<SessionInfo[]> {
    const rows = await this.database.db
      .selectFrom('sessions')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('created_at', 'desc')
      .execute();
    const now = this.now();
    return rows
      .filter((r) => this.alive(r, now))
      .map((r) => ({
        id: r.id,
        method: r.method,
        createdAt: new Date(Number(r.created_at)).toISOString(),
        lastSeenAt: new Date(Number(r.last_seen_at)).toISOString(),
        expiresAt: new Date(
          Math.min(Number(r.expires_at), Number(r.last_seen_at) + this.settings.sessionIdleMs),
        ).toISOString(),
      }));
  }

  /** Revokes one of the account's sessions; false when it has no such session. */
  async revoke(accountId: string, sessionId: string): Promise<boolean> {
    const r = await this.database.db
      .deleteFrom('sessions')
      .where('id', '=', sessionId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    const revoked = Number(r.numDeletedRows) === 1;
    if (revoked) this.notifyRevoked(accountId);
    return revoked;
  }

  /** Revokes every session of the account (but `exceptId`); returns how many. */
  async revokeAll(accountId: string, exceptId?: string): Promise<number> {
    let q = this.database.db.deleteFrom('sessions').where('account_id', '=', accountId);
    if (exceptId) q = q.where('id', '<>', exceptId);
    const r = await q.executeTakeFirst();
    const revoked = Number(r.numDeletedRows);
    if (revoked > 0) this.notifyRevoked(accountId);
    return revoked;
  }
}
