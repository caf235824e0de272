/**
 * The audit log of security events: who (actor), what (action, subject), when, and from which client IP. The IP
 * is sealed under the tenant's key and removed 30 days after the event by the retention policy
 * `identity.audit_ip` (platform/retention: a daily job that blanks `ip_sealed`; the row stays); before the job
 * runs, reads already hide an IP older than the policy's cutoff.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/connect.ts';
import { TenantRepository, withTenant } from '../../platform/db/tenant.ts';
import type { Cipher } from '../../platform/crypto/index.ts';
import { purgeJobName, tablePurge, type Retention } from '../../platform/retention/index.ts';
import { sql } from 'kysely';
import { newId } from './secrets.ts';
import './tables.ts';

export type AuditAction =
  | 'account.created'
  | 'account.verified'
  | 'account.deleted'
  | 'email.changed'
  | 'login.succeeded'
  | 'login.failed'
  | 'mfa.enabled'
  | 'mfa.disabled'
  | 'mfa.recovery_code_used'
  | 'password.reset'
  | 'password.changed'
  | 'session.revoked'
  | 'role.changed'
  | 'member.removed'
  | 'invitation.created'
  | 'invitation.accepted'
  | 'org.created'
  | 'operator.created';

export interface AuditEntry {
  action: AuditAction;
  actorId?: string | null;
  subjectId?: string | null;
  /** No personal data here: ids, codes, methods. */
  detail?: Record<string, string | number | boolean>;
  ip?: string | null;
}

export interface AuditEvent {
  id: string;
  at: string;
  action: string;
  actorId: string | null;
  subjectId: string | null;
  detail: Record<string, unknown> | null;
  ip: string | null;
}

export const AUDIT_IP_POLICY = 'identity.audit_ip';
export const AUDIT_IP_PURGE_JOB = purgeJobName(AUDIT_IP_POLICY);
const ref = (id: string) => ({ table: 'audit_events', id, column: 'ip_sealed' });

class AuditRepository extends TenantRepository {
  async add(row: {
    id: string;
    at: number;
    actor_id: string | null;
    action: string;
    subject_id: string | null;
    detail: string | null;
    ip_sealed: Buffer | null;
  }) {
    await this.insertInto('audit_events', row);
  }

  list(limit: number, before?: number) {
    let q = this.selectFrom('audit_events')
      .selectAll()
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit);
    if (before !== undefined) q = q.where('at', '<', before);
    return q.execute();
  }

  listBySubject(subjectId: string) {
    return this.selectFrom('audit_events')
      .selectAll()
      .where((eb) => eb.or([eb('subject_id', '=', subjectId), eb('actor_id', '=', subjectId)]))
      .orderBy('at', 'desc')
      .execute();
  }
}

export class AuditLog {
  constructor(
    private readonly deps: {
      database: Database;
      cipher: Cipher;
      clock: Clock;
      logger: Logger;
      retention: Retention;
      ipRetentionMs: number;
    },
  ) {}

  /** Records an event in `tenantId`'s log. Never fails the request: a failure is logged. */
  async record(tenantId: string, entry: AuditEntry): Promise<void> {
    try {
      const id = newId();
      const ipSealed = entry.ip ? await this.deps.cipher.seal(tenantId, ref(id), entry.ip) : null;
      await withTenant(this.deps.database, tenantId, (scope) =>
        new AuditRepository(scope).add({
          id,
          at: this.deps.clock.now().getTime(),
          actor_id: entry.actorId ?? null,
          action: entry.action,
          subject_id: entry.subjectId ?? null,
          detail: entry.detail ? JSON.stringify(entry.detail) : null,
          ip_sealed: ipSealed,
        }),
      );
    } catch (err) {
      this.deps.logger.error({ err, action: entry.action }, 'could not write the audit log');
    }
  }

  private async open(
    tenantId: string,
    rows: Awaited<ReturnType<AuditRepository['list']>>,
  ): Promise<AuditEvent[]> {
    const cutoff = this.deps.retention.cutoff(AUDIT_IP_POLICY);
    const out: AuditEvent[] = [];
    for (const r of rows) {
      const at = Number(r.at);
      out.push({
        id: r.id,
        at: new Date(at).toISOString(),
        action: r.action,
        actorId: r.actor_id,
        subjectId: r.subject_id,
        detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
        ip:
          r.ip_sealed && at >= cutoff
            ? await this.deps.cipher.openText(tenantId, ref(r.id), r.ip_sealed)
            : null,
      });
    }
    return out;
  }

  async list(tenantId: string, options: { limit?: number; before?: number } = {}): Promise<AuditEvent[]> {
    const rows = await withTenant(this.deps.database, tenantId, (scope) =>
      new AuditRepository(scope).list(Math.min(options.limit ?? 100, 500), options.before),
    );
    return this.open(tenantId, rows);
  }

  /** Events about or by one account in one tenant (GDPR export). */
  async listForAccount(tenantId: string, accountId: string): Promise<AuditEvent[]> {
    const rows = await withTenant(this.deps.database, tenantId, (scope) =>
      new AuditRepository(scope).listBySubject(accountId),
    );
    return this.open(tenantId, rows);
  }

  /** Registers the 30-day IP policy with platform/retention (its job is scheduled at start). */
  registerRetention(): void {
    this.deps.retention.register({
      name: AUDIT_IP_POLICY,
      maxAgeMs: this.deps.ipRetentionMs,
      purgeBatch: tablePurge(this.deps.database, {
        table: 'audit_events',
        timeColumn: 'at',
        keyColumns: ['tenant_id', 'id'],
        set: { ip_sealed: null },
        where: sql<boolean>`ip_sealed is not null`,
      }),
    });
  }
}
