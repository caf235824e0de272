/**
 * Data access for licensing. `LicenseRepository` reaches one org's rows (a tenant scope); `LicenseDirectory`
 * holds the few named cross-tenant reads (the validation route's lookup by email, SCIM secrets, the operator's
 * views, the activation culler), each in a system context that names why tenancy is waived there.
 */
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Database } from '../../platform/db/connect.ts';
import type { Tables } from '../../platform/db/schema.ts';
import { TenantRepository, withSystemContext, type TenantScope } from '../../platform/db/tenant.ts';
import { SeatPersonalData, type SeatHolder } from './personal-data.ts';
import type {
  LicenseDevicesTable,
  LicensePoliciesTable,
  LicenseSeatsTable,
  LicensesTable,
  SeatSource,
  SeatStatus,
} from './tables.ts';

export type LicenseRow = Omit<LicensesTable, 'tenant_id'> & { tenant_id: string };

/** A seat with its email opened (or taken from the holder it was found by). */
export type SeatRow = LicenseSeatsTable & { email: string };

export class LicenseRepository extends TenantRepository {
  private readonly scope: TenantScope;

  /** `people` seals and opens seat emails; repositories that touch no seat may leave it out. */
  constructor(
    scope: TenantScope,
    private readonly people: SeatPersonalData = new SeatPersonalData(undefined),
  ) {
    super(scope);
    this.scope = scope;
  }

  async insertLicense(row: Omit<LicensesTable, 'tenant_id'>): Promise<void> {
    await this.insertInto('licenses', row);
  }

  async license(id: string): Promise<LicenseRow | undefined> {
    return this.selectFrom('licenses').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Takes the licence's row lock (PostgreSQL/MySQL; SQLite has one writer), so seat counts cannot race. */
  async lockLicense(id: string, now: number): Promise<LicenseRow | undefined> {
    const r = await this.updateTable('licenses')
      .set({ updated_at: now })
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) return undefined;
    return this.license(id);
  }

  async licenses(): Promise<LicenseRow[]> {
    return this.selectFrom('licenses').selectAll().orderBy('created_at').orderBy('id').execute();
  }

  async updateLicense(
    id: string,
    set: Partial<Pick<LicensesTable, 'status' | 'expires_at' | 'seats'>>,
    now: number,
  ) {
    await this.updateTable('licenses')
      .set({ ...set, updated_at: now })
      .where('id', '=', id)
      .execute();
  }

  /** Seats in use per licence: every assigned seat counts, deactivated ones too (they keep their seat). */
  async seatCounts(): Promise<Map<string, number>> {
    const rows = await this.selectFrom('license_assignments')
      .select((eb) => ['license_id', eb.fn.countAll<number | string>().as('n')])
      .groupBy('license_id')
      .execute();
    return new Map(rows.map((r) => [r.license_id, Number(r.n)]));
  }

  /** The licence's seats with their emails opened, ordered by email. */
  async seats(licenseId: string): Promise<SeatRow[]> {
    const rows = await this.selectFrom('license_assignments')
      .selectAll()
      .where('license_id', '=', licenseId)
      .execute();
    const opened = await Promise.all(
      rows.map(async (r) => ({ ...r, email: await this.people.open(this.scope, r.id, r.email_sealed) })),
    );
    return opened.sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
  }

  async seat(licenseId: string, holder: SeatHolder): Promise<SeatRow | undefined> {
    const row = await this.selectFrom('license_assignments')
      .selectAll()
      .where('license_id', '=', licenseId)
      .where('email_index', '=', holder.index)
      .executeTakeFirst();
    return row && { ...row, email: holder.email };
  }

  async insertSeat(licenseId: string, holder: SeatHolder, source: SeatSource, now: number): Promise<void> {
    const id = randomUUID();
    await this.insertInto('license_assignments', {
      id,
      license_id: licenseId,
      email_index: holder.index,
      email_sealed: await this.people.sealFor(this.scope, id, holder.email),
      status: 'active',
      source,
      assigned_at: now,
      updated_at: now,
    });
  }

  async setSeatStatus(licenseId: string, holder: SeatHolder, status: SeatStatus, now: number) {
    const r = await this.updateTable('license_assignments')
      .set({ status, updated_at: now })
      .where('license_id', '=', licenseId)
      .where('email_index', '=', holder.index)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async deleteSeat(licenseId: string, holder: SeatHolder): Promise<boolean> {
    const r = await this.deleteFrom('license_assignments')
      .where('license_id', '=', licenseId)
      .where('email_index', '=', holder.index)
      .executeTakeFirst();
    await this.deleteFrom('license_devices')
      .where('license_id', '=', licenseId)
      .where('email_index', '=', holder.index)
      .execute();
    return Number(r.numDeletedRows) === 1;
  }

  /** A holder's machines on a licence, by the holder's email index. */
  async activations(licenseId: string, emailIndex: string): Promise<LicenseDevicesTable[]> {
    return this.selectFrom('license_devices')
      .selectAll()
      .where('license_id', '=', licenseId)
      .where('email_index', '=', emailIndex)
      .execute();
  }

  /** Distinct users (their email indexes) holding a live activation (floating seats in use). */
  async liveUsers(licenseId: string, aliveSince: number): Promise<string[]> {
    const rows = await this.selectFrom('license_devices')
      .select('email_index')
      .distinct()
      .where('license_id', '=', licenseId)
      .where('last_heartbeat_at', '>=', aliveSince)
      .execute();
    return rows.map((r) => r.email_index);
  }

  async insertActivation(row: Omit<LicenseDevicesTable, 'tenant_id'>): Promise<void> {
    await this.insertInto('license_devices', row);
  }

  async nameActivation(id: string, nameSealed: Uint8Array | null): Promise<void> {
    await this.updateTable('license_devices').set({ name_sealed: nameSealed }).where('id', '=', id).execute();
  }

  async touchActivation(id: string, now: number): Promise<boolean> {
    const r = await this.updateTable('license_devices')
      .set({ last_heartbeat_at: now })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async activation(id: string): Promise<LicenseDevicesTable | undefined> {
    return this.selectFrom('license_devices').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async deleteActivation(id: string): Promise<boolean> {
    const r = await this.deleteFrom('license_devices').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }

  async insertScimCredential(id: string, secretHash: string, licenseId: string, now: number): Promise<void> {
    await this.insertInto('scim_credentials', {
      id,
      secret_hash: secretHash,
      license_id: licenseId,
      created_at: now,
      last_used_at: null,
    });
  }

  async deleteScimCredential(id: string): Promise<boolean> {
    const r = await this.deleteFrom('scim_credentials').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }
}

export interface CallerLicences {
  seats: Pick<LicenseSeatsTable, 'tenant_id' | 'license_id' | 'status'>[];
  licenses: LicenseRow[];
}

/** The named cross-tenant reads. */
export class LicenseDirectory {
  constructor(private readonly database: Database) {}

  private system<T>(reason: string, fn: (trx: Transaction<Tables>) => Promise<T>): Promise<T> {
    return withSystemContext(this.database, reason, fn);
  }

  /**
   * The validation route's read: the caller's seats in every org, and the licences they are on or that belong
   * to the caller's orgs. Two indexed reads in one transaction.
   */
  async callerLicences(emailIndex: string | undefined, orgIds: readonly string[]): Promise<CallerLicences> {
    return this.system("licence validation finds the caller's seats in every org", async (trx) => {
      const seats = emailIndex
        ? await trx
            .selectFrom('license_assignments')
            .select(['tenant_id', 'license_id', 'status'])
            .where('email_index', '=', emailIndex)
            .execute()
        : [];
      if (seats.length === 0 && orgIds.length === 0) return { seats, licenses: [] };
      const licenses = await trx
        .selectFrom('licenses')
        .selectAll()
        .where((eb) => {
          const ors = [];
          // By (tenant, id), so that the primary key (tenant_id, id) serves it: `id` alone has no index.
          if (seats.length)
            ors.push(
              eb.and([
                eb('tenant_id', 'in', [...new Set(seats.map((s) => s.tenant_id))]),
                eb('id', 'in', [...new Set(seats.map((s) => s.license_id))]),
              ]),
            );
          if (orgIds.length) ors.push(eb('tenant_id', 'in', [...orgIds]));
          return eb.or(ors);
        })
        .execute();
      // A seat names its licence by (tenant, id); drop any licence matched by id alone in another tenant.
      const seatKeys = new Set(seats.map((s) => `${s.tenant_id}|${s.license_id}`));
      const orgs = new Set(orgIds);
      return {
        seats,
        licenses: licenses.filter((l) => orgs.has(l.tenant_id) || seatKeys.has(`${l.tenant_id}|${l.id}`)),
      };
    });
  }

  async policies(): Promise<LicensePoliciesTable[]> {
    return this.database.db.selectFrom('license_policies').selectAll().orderBy('id').execute();
  }

  async insertPolicy(row: LicensePoliciesTable): Promise<void> {
    await this.database.db.insertInto('license_policies').values(row).execute();
  }

  /** The operator finds a licence by id or key without knowing its org. */
  async findLicense(idOrKey: string): Promise<LicenseRow | undefined> {
    return this.system('the operator manages licences of every org', (trx) =>
      trx
        .selectFrom('licenses')
        .selectAll()
        .where((eb) => eb.or([eb('id', '=', idOrKey), eb('key', '=', idOrKey)]))
        .executeTakeFirst(),
    );
  }

  async allLicenses(orgId?: string): Promise<(LicenseRow & { used_seats: number })[]> {
    return this.system('the operator lists licences of every org', async (trx) => {
      let q = trx.selectFrom('licenses').selectAll().orderBy('created_at').orderBy('id');
      if (orgId) q = q.where('tenant_id', '=', orgId);
      const rows = await q.execute();
      const counts = await trx
        .selectFrom('license_assignments')
        .select((eb) => ['tenant_id', 'license_id', eb.fn.countAll<number | string>().as('n')])
        .groupBy(['tenant_id', 'license_id'])
        .execute();
      const used = new Map(counts.map((c) => [`${c.tenant_id}|${c.license_id}`, Number(c.n)]));
      return rows.map((r) => ({ ...r, used_seats: used.get(`${r.tenant_id}|${r.id}`) ?? 0 }));
    });
  }

  async scimCredential(secretHash: string, now: number) {
    return this.system('a SCIM request names its org only through its bearer secret', async (trx) => {
      const row = await trx
        .selectFrom('scim_credentials')
        .select(['tenant_id', 'id', 'license_id'])
        .where('secret_hash', '=', secretHash)
        .executeTakeFirst();
      if (row) {
        await trx
          .updateTable('scim_credentials')
          .set({ last_used_at: now })
          .where('id', '=', row.id)
          .execute();
      }
      return row;
    });
  }

  /** An activation by id, wherever it lives (the caller is checked against its email index by the command). */
  async activation(id: string): Promise<LicenseDevicesTable | undefined> {
    return this.system('a machine names its activation by id alone', (trx) =>
      trx.selectFrom('license_devices').selectAll().where('id', '=', id).executeTakeFirst(),
    );
  }

  /** The caller's seats in every org (a user learns about their own seats only). */
  async seatsOf(emailIndex: string) {
    return this.system('a user lists their own seats in every org', async (trx) =>
      trx
        .selectFrom('license_assignments')
        .innerJoin('licenses', (j) =>
          j
            .onRef('licenses.tenant_id', '=', 'license_assignments.tenant_id')
            .onRef('licenses.id', '=', 'license_assignments.license_id'),
        )
        .select([
          'licenses.tenant_id',
          'licenses.id',
          'licenses.products',
          'licenses.status',
          'licenses.expires_at',
          'license_assignments.status as seat_status',
        ])
        .where('license_assignments.email_index', '=', emailIndex)
        .orderBy('licenses.created_at')
        .execute(),
    );
  }

  /** Deletes activations whose last heartbeat is older than `deadBefore` for their policy; returns the count. */
  async cullActivations(deadBeforeByPolicy: Map<string, number>): Promise<number> {
    return this.system('the activation culler sweeps every org', async (trx) => {
      let culled = 0;
      for (const [policyId, deadBefore] of deadBeforeByPolicy) {
        const licenseIds = trx.selectFrom('licenses').select('id').where('policy_id', '=', policyId);
        const r = await trx
          .deleteFrom('license_devices')
          .where('last_heartbeat_at', '<', deadBefore)
          .where('license_id', 'in', licenseIds)
          .executeTakeFirst();
        culled += Number(r.numDeletedRows);
      }
      return culled;
    });
  }

  /** Marks active licences past their expiry as expired (the validator checks the time itself too). */
  async expireLicenses(now: number): Promise<number> {
    return this.system('the expiry sweep covers every org', async (trx) => {
      const r = await trx
        .updateTable('licenses')
        .set({ status: 'expired', updated_at: now })
        .where('status', '=', 'active')
        .where('expires_at', 'is not', null)
        .where('expires_at', '<=', now)
        .executeTakeFirst();
      return Number(r.numUpdatedRows);
    });
  }
}
