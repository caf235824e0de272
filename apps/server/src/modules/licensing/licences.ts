/** Operator (vendor) commands over licences: issue, list, suspend, reinstate, extend; and the portal's list. */
import { randomBytes, randomUUID } from 'node:crypto';
import { withTenant } from '../../platform/db/tenant.ts';
import { iso, parseProducts, type LicensingContext } from './context.ts';
import { licensingErrors } from './errors.ts';
import { DEFAULT_POLICY_ID } from './policies.ts';
import { LicenseRepository, type LicenseRow } from './repo.ts';
import type { IssueLicenseInput, LicenseViewT } from './schemas.ts';
import type { LicenseStatus } from './tables.ts';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** `CNPY-XXXXX-XXXXX-XXXXX-XXXXX`: 100 random bits in Crockford base32, easy to read out on the phone. */
export function newLicenseKey(): string {
  const bytes = randomBytes(20);
  let out = '';
  for (let i = 0; i < 20; i++) out += CROCKFORD[(bytes[i] ?? 0) & 31];
  return `CNPY-${out.slice(0, 5)}-${out.slice(5, 10)}-${out.slice(10, 15)}-${out.slice(15, 20)}`;
}

export function licenseView(row: LicenseRow, usedSeats: number, now: number): LicenseViewT {
  return {
    id: row.id,
    key: row.key,
    orgId: row.tenant_id,
    policy: row.policy_id,
    products: parseProducts(row.products),
    seats: Number(row.seats),
    usedSeats,
    availableSeats: Math.max(0, Number(row.seats) - usedSeats),
    expiresAt: iso(row.expires_at === null ? null : Number(row.expires_at)),
    status: effectiveStatus(row, now),
  };
}

/** Expiry is a fact of time: an active licence past its date reads as expired before the sweep marks it. */
export function effectiveStatus(row: Pick<LicenseRow, 'status' | 'expires_at'>, now: number): LicenseStatus {
  if (row.status === 'active' && row.expires_at !== null && Number(row.expires_at) <= now) return 'expired';
  return row.status;
}

export function licenceCommands(ctx: LicensingContext) {
  const now = () => ctx.clock.now().getTime();

  async function issue(input: IssueLicenseInput): Promise<{ id: string; key: string }> {
    const unknown = input.products.filter((p) => !ctx.products.has(p));
    if (unknown.length) throw licensingErrors.unknownProducts(unknown);
    const policy = await ctx.policies.get(input.policy ?? DEFAULT_POLICY_ID);
    if (!(await ctx.ports.orgs.orgExists(input.orgId))) throw licensingErrors.orgNotFound();
    const t = now();
    const expiresAt = input.expiresAt
      ? Date.parse(input.expiresAt)
      : policy.durationDays === null
        ? null
        : t + policy.durationDays * 86_400_000;
    const id = randomUUID();
    const key = newLicenseKey();
    await withTenant(ctx.database, input.orgId, (scope) =>
      new LicenseRepository(scope).insertLicense({
        id,
        key,
        policy_id: policy.id,
        products: JSON.stringify(input.products),
        seats: input.seats,
        status: expiresAt !== null && expiresAt <= t ? 'expired' : 'active',
        expires_at: expiresAt,
        created_at: t,
        updated_at: t,
      }),
    );
    ctx.invalidate();
    return { id, key };
  }

  async function find(idOrKey: string): Promise<LicenseRow> {
    const row = await ctx.directory.findLicense(idOrKey);
    if (!row) throw licensingErrors.licenseNotFound();
    return row;
  }

  async function change(idOrKey: string, set: { status?: LicenseStatus; expires_at?: number | null }) {
    const row = await find(idOrKey);
    await withTenant(ctx.database, row.tenant_id, (scope) =>
      new LicenseRepository(scope).updateLicense(row.id, set, now()),
    );
    ctx.invalidate();
    const after = await find(row.id);
    const used =
      (await ctx.directory.allLicenses(after.tenant_id)).find((l) => l.id === after.id)?.used_seats ?? 0;
    return licenseView(after, used, now());
  }

  return {
    issue,
    async list(orgId?: string): Promise<LicenseViewT[]> {
      const t = now();
      return (await ctx.directory.allLicenses(orgId)).map((r) => licenseView(r, r.used_seats, t));
    },
    get: async (idOrKey: string) => {
      const row = await find(idOrKey);
      const used =
        (await ctx.directory.allLicenses(row.tenant_id)).find((l) => l.id === row.id)?.used_seats ?? 0;
      return licenseView(row, used, now());
    },
    suspend: (idOrKey: string) => change(idOrKey, { status: 'suspended' }),
    /** Lifts a suspension; a licence past its expiry reads as expired again. */
    reinstate: (idOrKey: string) => change(idOrKey, { status: 'active' }),
    /** Moves the expiry (null: never expires); an expired licence given a future date becomes active. */
    async extend(idOrKey: string, expiresAt: number | null) {
      const row = await find(idOrKey);
      const status: LicenseStatus =
        row.status === 'suspended'
          ? 'suspended'
          : expiresAt !== null && expiresAt <= now()
            ? 'expired'
            : 'active';
      return change(row.id, { expires_at: expiresAt, status });
    },

    /** The portal: this org's licences with used and available seats. */
    async listForOrg(orgId: string): Promise<LicenseViewT[]> {
      const t = now();
      return withTenant(ctx.database, orgId, async (scope) => {
        const repo = new LicenseRepository(scope);
        const counts = await repo.seatCounts();
        return (await repo.licenses()).map((r) => licenseView(r, counts.get(r.id) ?? 0, t));
      });
    },
  };
}

export type LicenceCommands = ReturnType<typeof licenceCommands>;
