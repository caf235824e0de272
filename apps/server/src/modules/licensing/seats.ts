/**
 * Seats, as an org admin manages them (the portal, CSV) and as SCIM provisions them. A seat belongs to an email;
 * removing it frees the seat, deactivating it blocks the user but keeps the seat. Assignments past the seat
 * count (plus the policy's overage) are refused with `seat_limit_reached`, and the org's admins are told.
 */
import { withTenant } from '../../platform/db/tenant.ts';
import { AppError } from '../../platform/errors.ts';
import { isoOf, normaliseEmail, parseProducts, sendMails, type LicensingContext } from './context.ts';
import { SEAT_CSV_HEADER, parseCsv, toCsv } from './csv.ts';
import { licensingErrors } from './errors.ts';
import { withOverage } from './policies.ts';
import type { LicensingMail } from './ports.ts';
import type { SeatHolder } from './personal-data.ts';
import { LicenseRepository, type LicenseRow, type SeatRow } from './repo.ts';
import type { CsvImportReportT, SeatViewT } from './schemas.ts';
import type { SeatSource } from './tables.ts';

const EMAIL = /^[^@\s]+@[^@\s]+$/;

export function seatView(row: SeatRow): SeatViewT {
  return {
    email: row.email,
    status: row.status,
    source: row.source,
    assignedAt: isoOf(Number(row.assigned_at)),
  };
}

type AssignOutcome = 'assigned' | 'reactivated' | 'unchanged';

/** Inside a tenant transaction: gives `holder` a seat (or reactivates it); throws seat_limit_reached. */
export async function assignSeatIn(
  ctx: LicensingContext,
  repo: LicenseRepository,
  licenseId: string,
  holder: SeatHolder,
  source: SeatSource,
  opts: { reactivate: boolean },
): Promise<{ outcome: AssignOutcome; license: LicenseRow }> {
  const t = ctx.clock.now().getTime();
  const lic = await repo.lockLicense(licenseId, t);
  if (!lic) throw licensingErrors.licenseNotFound();
  const existing = await repo.seat(licenseId, holder);
  if (existing) {
    if (existing.status === 'deactivated' && opts.reactivate) {
      await repo.setSeatStatus(licenseId, holder, 'active', t);
      return { outcome: 'reactivated', license: lic };
    }
    if (opts.reactivate || source !== 'portal') return { outcome: 'unchanged', license: lic };
    throw licensingErrors.seatExists();
  }
  const policy = await ctx.policies.get(lic.policy_id);
  const used = (await repo.seatCounts()).get(licenseId) ?? 0;
  if (used >= withOverage(Number(lic.seats), policy.overage))
    throw licensingErrors.seatLimitReached(Number(lic.seats));
  await repo.insertSeat(licenseId, holder, source, t);
  return { outcome: 'assigned', license: lic };
}

export function grantedMail(email: string, lic: LicenseRow): LicensingMail {
  return {
    to: email,
    template: 'license_granted',
    data: {
      email,
      orgId: lic.tenant_id,
      licenseId: lic.id,
      products: parseProducts(lic.products).join(', '),
    },
  };
}

/** `reason` 'removed' has its own sentence in the template; a deactivation is explained in words. */
export function revokedMail(
  email: string,
  lic: LicenseRow,
  reason: 'removed' | 'deactivated',
): LicensingMail {
  return {
    to: email,
    template: 'license_revoked',
    data: {
      email,
      orgId: lic.tenant_id,
      licenseId: lic.id,
      products: parseProducts(lic.products).join(', '),
      reason:
        reason === 'removed'
          ? 'removed'
          : 'An administrator deactivated your seat; it is kept for you until they reactivate or remove it.',
    },
  };
}

export function seatCommands(ctx: LicensingContext) {
  const now = () => ctx.clock.now().getTime();

  /** Tells the org's admins that an assignment was refused for want of seats. */
  async function reportSeatLimit(
    orgId: string,
    licenseId: string,
    email: string,
    source: SeatSource,
    seats?: number,
  ) {
    const admins = await ctx.ports.orgs.adminEmails(orgId).catch((err: unknown) => {
      ctx.logger.error({ err }, 'could not list the org admins for a seat-limit report');
      return [] as string[];
    });
    ctx.logger.warn({ orgId, licenseId, source }, 'seat limit reached');
    await sendMails(
      ctx,
      admins.map((to) => ({
        to,
        template: 'seat_limit_reached' as const,
        data: { orgId, licenseId, email, source, ...(seats ? { seats } : {}) },
      })),
    );
  }

  async function assign(orgId: string, licenseId: string, rawEmail: string, source: SeatSource = 'portal') {
    const email = normaliseEmail(rawEmail);
    if (!EMAIL.test(email)) throw licensingErrors.invalidEmail();
    const holder = await ctx.people.holder(email);
    try {
      const r = await withTenant(ctx.database, orgId, (scope) =>
        assignSeatIn(ctx, new LicenseRepository(scope, ctx.people), licenseId, holder, source, {
          reactivate: source !== 'portal',
        }),
      );
      ctx.invalidate();
      if (r.outcome !== 'unchanged') await sendMails(ctx, [grantedMail(email, r.license)]);
      return r.outcome;
    } catch (err) {
      if (err instanceof AppError && err.code === 'seat_limit_reached') {
        await reportSeatLimit(orgId, licenseId, email, source);
      }
      throw err;
    }
  }

  async function setStatus(
    orgId: string,
    licenseId: string,
    rawEmail: string,
    status: 'active' | 'deactivated',
  ) {
    const holder = await ctx.people.holder(rawEmail);
    const email = holder.email;
    const { lic, changed } = await withTenant(ctx.database, orgId, async (scope) => {
      const repo = new LicenseRepository(scope, ctx.people);
      const lic = await repo.license(licenseId);
      if (!lic) throw licensingErrors.licenseNotFound();
      const seat = await repo.seat(licenseId, holder);
      if (!seat) throw licensingErrors.seatNotFound();
      if (seat.status === status) return { lic, changed: false };
      await repo.setSeatStatus(licenseId, holder, status, now());
      return { lic, changed: true };
    });
    ctx.invalidate();
    if (changed) {
      await sendMails(ctx, [
        status === 'active' ? grantedMail(email, lic) : revokedMail(email, lic, 'deactivated'),
      ]);
    }
    return changed;
  }

  return {
    assign,
    reportSeatLimit,
    async list(orgId: string, licenseId: string): Promise<SeatViewT[]> {
      return withTenant(ctx.database, orgId, async (scope) => {
        const repo = new LicenseRepository(scope, ctx.people);
        if (!(await repo.license(licenseId))) throw licensingErrors.licenseNotFound();
        return (await repo.seats(licenseId)).map(seatView);
      });
    },
    /** Frees the seat (and the user's machines on this licence). */
    async remove(orgId: string, licenseId: string, rawEmail: string): Promise<void> {
      const holder = await ctx.people.holder(rawEmail);
      const email = holder.email;
      const lic = await withTenant(ctx.database, orgId, async (scope) => {
        const repo = new LicenseRepository(scope, ctx.people);
        const lic = await repo.license(licenseId);
        if (!lic) throw licensingErrors.licenseNotFound();
        if (!(await repo.deleteSeat(licenseId, holder))) throw licensingErrors.seatNotFound();
        return lic;
      });
      ctx.invalidate();
      await sendMails(ctx, [revokedMail(email, lic, 'removed')]);
    },
    /** Blocks the user; the seat stays taken. */
    deactivate: (orgId: string, licenseId: string, email: string) =>
      setStatus(orgId, licenseId, email, 'deactivated'),
    reactivate: (orgId: string, licenseId: string, email: string) =>
      setStatus(orgId, licenseId, email, 'active'),

    async exportCsv(orgId: string, licenseId: string): Promise<string> {
      const seats = await withTenant(ctx.database, orgId, async (scope) => {
        const repo = new LicenseRepository(scope, ctx.people);
        if (!(await repo.license(licenseId))) throw licensingErrors.licenseNotFound();
        return repo.seats(licenseId);
      });
      return toCsv([
        [...SEAT_CSV_HEADER],
        ...seats.map((s) => [s.email, s.status, isoOf(Number(s.assigned_at))]),
      ]);
    },

    /**
     * Applies a CSV of `email[,status]` rows (a header row is optional; other columns are ignored): assigns
     * missing seats, sets each listed seat's status. It never removes a seat that the file does not list.
     * Each row succeeds or fails on its own; the report says which and why.
     */
    async importCsv(orgId: string, licenseId: string, text: string): Promise<CsvImportReportT> {
      const report: CsvImportReportT = {
        assigned: 0,
        reactivated: 0,
        deactivated: 0,
        unchanged: 0,
        failed: 0,
        rows: [],
      };
      const exists = await withTenant(ctx.database, orgId, async (scope) =>
        new LicenseRepository(scope).license(licenseId),
      );
      if (!exists) throw licensingErrors.licenseNotFound();
      const rows = parseCsv(text);
      const first = rows[0];
      if (first && first.cells[0]?.toLowerCase() === 'email') rows.shift();
      const seen = new Set<string>();
      for (const { line, cells } of rows) {
        const email = normaliseEmail(cells[0] ?? '');
        const status = (cells[1] ?? '').toLowerCase() || 'active';
        const fail = (code: string, reason: string) => {
          report.failed++;
          report.rows.push({ line, email, outcome: 'failed', code, reason });
        };
        if (!EMAIL.test(email)) {
          fail('invalid_email', 'not an email address');
          continue;
        }
        if (status !== 'active' && status !== 'deactivated') {
          fail('invalid_status', 'status must be active or deactivated');
          continue;
        }
        if (seen.has(email)) {
          fail('duplicate', 'this email is listed more than once');
          continue;
        }
        seen.add(email);
        try {
          if (status === 'active') {
            const outcome = await assign(orgId, licenseId, email, 'csv');
            report[outcome]++;
            report.rows.push({ line, email, outcome });
          } else {
            const outcome = await importDeactivated(orgId, licenseId, email);
            report[outcome]++;
            report.rows.push({ line, email, outcome });
          }
        } catch (err) {
          if (err instanceof AppError) fail(err.code, err.message);
          else throw err;
        }
      }
      return report;
    },
  };

  /** A `deactivated` row: the seat is taken (assigned if missing) and blocked. */
  async function importDeactivated(
    orgId: string,
    licenseId: string,
    email: string,
  ): Promise<'deactivated' | 'unchanged'> {
    const holder = await ctx.people.holder(email);
    const r = await withTenant(ctx.database, orgId, async (scope) => {
      const repo = new LicenseRepository(scope, ctx.people);
      const seat = await repo.seat(licenseId, holder);
      if (seat?.status === 'deactivated') return 'unchanged' as const;
      if (!seat) await assignSeatIn(ctx, repo, licenseId, holder, 'csv', { reactivate: false });
      await repo.setSeatStatus(licenseId, holder, 'deactivated', now());
      return 'deactivated' as const;
    }).catch(async (err: unknown) => {
      if (err instanceof AppError && err.code === 'seat_limit_reached')
        await reportSeatLimit(orgId, licenseId, email, 'csv');
      throw err;
    });
    ctx.invalidate();
    return r;
  }
}

export type SeatCommands = ReturnType<typeof seatCommands>;
