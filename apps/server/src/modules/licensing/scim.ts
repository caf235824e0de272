/**
 * SCIM 2.0 provisioning of one licence's seats, per org, authenticated by a bearer secret that is stored only
 * as its SHA-256. A provisioned, active user holds a seat for their email; `active:false` deactivates the seat
 * (the user is blocked, the seat stays taken), DELETE removes it (the seat is freed). Provisioning past the
 * seat count is refused with a SCIM error and reported to the org's admins. Groups are stored so that an IdP
 * can push them, but they do not change seats.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { withTenant } from '../../platform/db/tenant.ts';
import { AppError } from '../../platform/errors.ts';
import { sendMails, type LicensingContext } from './context.ts';
import { licensingErrors } from './errors.ts';
import { LicenseRepository } from './repo.ts';
import {
  GROUP_SCHEMA,
  ScimError,
  listResponse,
  parseFilter,
  patchOperations,
  patchUser,
  seatEmailOf,
  userResource,
  userStateFromResource,
  type ScimUserState,
} from './scim-resources.ts';
import { assignSeatIn, grantedMail, revokedMail, type SeatCommands } from './seats.ts';
import { ScimRepository } from './scim-repo.ts';
import type { ScimGroupsTable, ScimUsersTable } from './tables.ts';

export const hashScimSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

export interface ScimPrincipal {
  orgId: string;
  licenseId: string;
}

type Json = Record<string, unknown>;

export function scimCommands(ctx: LicensingContext, seats: SeatCommands) {
  const now = () => ctx.clock.now().getTime();
  const principals = new Map<string, { at: number; value: ScimPrincipal }>();
  const baseUrl = `${ctx.publicUrl}/api/v1/scim/v2`;

  function rowState(row: ScimUsersTable): ScimUserState {
    return {
      userName: row.user_name,
      externalId: row.external_id,
      active: Number(row.active) === 1,
      attributes: JSON.parse(row.resource) as Json,
    };
  }

  /**
   * Writes a user's new state and brings its seat in line: active users hold an active seat for their email,
   * inactive ones a deactivated seat. Returns the mails to send after the commit.
   */
  async function applyUser(
    p: ScimPrincipal,
    id: string,
    before: ScimUsersTable | undefined,
    next: ScimUserState,
  ) {
    const t = now();
    const email = seatEmailOf(next);
    // Outside the transaction (see SeatPersonalData.holder).
    const holder = await ctx.people.holder(email);
    const previous =
      before && before.seat_email !== email ? await ctx.people.holder(before.seat_email) : undefined;
    try {
      const { mails, row } = await withTenant(ctx.database, p.orgId, async (scope) => {
        const repo = new LicenseRepository(scope, ctx.people);
        const mails = [];
        const scim = new ScimRepository(scope, ctx.people.cipher());
        const clash = (await scim.users(p.licenseId, { userName: next.userName })).find((u) => u.id !== id);
        if (clash) throw new ScimError(409, 'a user with this userName exists', 'uniqueness');
        if (previous) {
          const lic = await repo.license(p.licenseId);
          if (lic && (await repo.deleteSeat(p.licenseId, previous)))
            mails.push(revokedMail(previous.email, lic, 'removed'));
        }
        const seat = await repo.seat(p.licenseId, holder);
        if (next.active) {
          const r = await assignSeatIn(ctx, repo, p.licenseId, holder, 'scim', { reactivate: true });
          if (r.outcome !== 'unchanged') mails.push(grantedMail(email, r.license));
        } else if (seat && seat.status === 'active') {
          await repo.setSeatStatus(p.licenseId, holder, 'deactivated', t);
          const lic = await repo.license(p.licenseId);
          if (lic) mails.push(revokedMail(email, lic, 'deactivated'));
        }
        const row: Omit<ScimUsersTable, 'tenant_id'> = {
          id,
          license_id: p.licenseId,
          user_name: next.userName,
          seat_email: email,
          external_id: next.externalId,
          active: next.active ? 1 : 0,
          resource: JSON.stringify(next.attributes),
          created_at: before ? Number(before.created_at) : t,
          updated_at: t,
        };
        if (before) await scim.updateUser(row);
        else await scim.insertUser(row);
        return { mails, row };
      });
      ctx.invalidate();
      await sendMails(ctx, mails);
      return userResource(row, baseUrl);
    } catch (err) {
      if (err instanceof AppError && err.code === 'seat_limit_reached') {
        await seats.reportSeatLimit(p.orgId, p.licenseId, email, 'scim');
        throw new ScimError(
          403,
          `seat_limit_reached: ${err.message} The organisation's admins have been told.`,
        );
      }
      if (err instanceof AppError && err.status === 404)
        throw new ScimError(404, 'the licence of this SCIM connection is gone');
      throw err;
    }
  }

  async function userRow(p: ScimPrincipal, id: string): Promise<ScimUsersTable> {
    const row = await withTenant(ctx.database, p.orgId, (scope) =>
      new ScimRepository(scope, ctx.people.cipher()).user(id),
    );
    if (!row || row.license_id !== p.licenseId) throw new ScimError(404, 'no such user');
    return row;
  }

  function groupResource(row: ScimGroupsTable): Json {
    return {
      schemas: [GROUP_SCHEMA],
      id: row.id,
      displayName: row.display_name,
      ...(row.external_id !== null ? { externalId: row.external_id } : {}),
      members: JSON.parse(row.members) as unknown,
      meta: {
        resourceType: 'Group',
        created: new Date(Number(row.created_at)).toISOString(),
        lastModified: new Date(Number(row.updated_at)).toISOString(),
        location: `${baseUrl}/Groups/${row.id}`,
      },
    };
  }

  function membersOf(value: unknown): { value: string; display?: string }[] {
    if (!Array.isArray(value)) return [];
    return value.flatMap((m) => {
      if (typeof m !== 'object' || m === null) return [];
      const v = (m as Json).value;
      const d = (m as Json).display;
      return typeof v === 'string' ? [{ value: v, ...(typeof d === 'string' ? { display: d } : {}) }] : [];
    });
  }

  async function groupRow(p: ScimPrincipal, id: string): Promise<ScimGroupsTable> {
    const row = await withTenant(ctx.database, p.orgId, (scope) =>
      new ScimRepository(scope, ctx.people.cipher()).group(id),
    );
    if (!row) throw new ScimError(404, 'no such group');
    return row;
  }

  return {
    baseUrl,

    /** Org admin: a new SCIM secret for one of the org's licences (shown once). */
    async createCredential(orgId: string, licenseId: string) {
      const secret = `scim_${randomBytes(32).toString('base64url')}`;
      const id = randomUUID();
      await withTenant(ctx.database, orgId, async (scope) => {
        const repo = new LicenseRepository(scope);
        if (!(await repo.license(licenseId))) throw licensingErrors.licenseNotFound();
        await repo.insertScimCredential(id, hashScimSecret(secret), licenseId, now());
      });
      return { id, licenseId, secret, scimBaseUrl: baseUrl };
    },

    async deleteCredential(orgId: string, id: string) {
      const deleted = await withTenant(ctx.database, orgId, (scope) =>
        new LicenseRepository(scope).deleteScimCredential(id),
      );
      if (!deleted) throw new AppError(404, 'not_found', 'No such SCIM credential.');
      principals.clear();
    },

    /** The org and licence a bearer secret speaks for (cached for a minute on this node). */
    async authenticate(authorization: string | undefined): Promise<ScimPrincipal> {
      const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
      if (!m?.[1]) throw new ScimError(401, 'a bearer secret is required');
      const hash = hashScimSecret(m[1]);
      const t = now();
      const hit = principals.get(hash);
      if (hit && t - hit.at < 60_000) return hit.value;
      const row = await ctx.directory.scimCredential(hash, t);
      if (!row) throw new ScimError(401, 'unknown bearer secret');
      const value = { orgId: row.tenant_id, licenseId: row.license_id };
      principals.set(hash, { at: t, value });
      return value;
    },

    async createUser(p: ScimPrincipal, body: Json) {
      return applyUser(p, randomUUID(), undefined, userStateFromResource(body));
    },

    async getUser(p: ScimPrincipal, id: string) {
      return userResource(await userRow(p, id), baseUrl);
    },

    async listUsers(p: ScimPrincipal, query: { filter?: string; startIndex?: number; count?: number }) {
      const filter = parseFilter(query.filter, ['userName', 'externalId']);
      const rows = await withTenant(ctx.database, p.orgId, (scope) =>
        new ScimRepository(scope, ctx.people.cipher()).users(
          p.licenseId,
          filter
            ? filter.attribute === 'userName'
              ? { userName: filter.value }
              : { externalId: filter.value }
            : undefined,
        ),
      );
      return listResponse(
        rows.map((r) => userResource(r, baseUrl)),
        Math.max(1, query.startIndex ?? 1),
        query.count ?? 100,
      );
    },

    async replaceUser(p: ScimPrincipal, id: string, body: Json) {
      const before = await userRow(p, id);
      return applyUser(p, id, before, userStateFromResource(body));
    },

    async patchUser(p: ScimPrincipal, id: string, body: Json) {
      const before = await userRow(p, id);
      return applyUser(p, id, before, patchUser(rowState(before), patchOperations(body)));
    },

    /** Deprovisioning for good: the user record goes and the seat is freed. */
    async deleteUser(p: ScimPrincipal, id: string) {
      const before = await userRow(p, id);
      const holder = await ctx.people.holder(before.seat_email);
      const lic = await withTenant(ctx.database, p.orgId, async (scope) => {
        const repo = new LicenseRepository(scope, ctx.people);
        await new ScimRepository(scope, ctx.people.cipher()).deleteUser(id);
        const removed = await repo.deleteSeat(p.licenseId, holder);
        return removed ? repo.license(p.licenseId) : undefined;
      });
      ctx.invalidate();
      if (lic) await sendMails(ctx, [revokedMail(before.seat_email, lic, 'removed')]);
    },

    async createGroup(p: ScimPrincipal, body: Json) {
      if (typeof body.displayName !== 'string' || !body.displayName)
        throw new ScimError(400, 'displayName is required', 'invalidValue');
      const t = now();
      const row: Omit<ScimGroupsTable, 'tenant_id'> = {
        id: randomUUID(),
        display_name: body.displayName,
        external_id: typeof body.externalId === 'string' ? body.externalId : null,
        members: JSON.stringify(membersOf(body.members)),
        created_at: t,
        updated_at: t,
      };
      await withTenant(ctx.database, p.orgId, (scope) =>
        new ScimRepository(scope, ctx.people.cipher()).insertGroup(row),
      );
      return groupResource({ ...row, tenant_id: p.orgId });
    },

    async getGroup(p: ScimPrincipal, id: string) {
      return groupResource(await groupRow(p, id));
    },

    async listGroups(p: ScimPrincipal, query: { filter?: string; startIndex?: number; count?: number }) {
      const filter = parseFilter(query.filter, ['displayName']);
      const rows = await withTenant(ctx.database, p.orgId, (scope) =>
        new ScimRepository(scope, ctx.people.cipher()).groups(filter?.value),
      );
      return listResponse(rows.map(groupResource), Math.max(1, query.startIndex ?? 1), query.count ?? 100);
    },

    async patchGroup(p: ScimPrincipal, id: string, body: Json) {
      const row = await groupRow(p, id);
      let members = membersOf(JSON.parse(row.members));
      let displayName = row.display_name;
      for (const { op, path, value } of patchOperations(body)) {
        const lower = path?.toLowerCase() ?? '';
        const filtered = /^members\[value eq "([^"]+)"\]$/i.exec(path ?? '');
        if (filtered) {
          if (op === 'remove') members = members.filter((m) => m.value !== filtered[1]);
        } else if (lower === 'members') {
          if (op === 'add')
            members = [
              ...members,
              ...membersOf(value).filter((n) => !members.some((m) => m.value === n.value)),
            ];
          else if (op === 'replace') members = membersOf(value);
          else if (Array.isArray(value))
            members = members.filter((m) => !membersOf(value).some((r) => r.value === m.value));
          else members = [];
        } else if (lower === 'displayname' && typeof value === 'string') {
          displayName = value;
        } else if (!path && typeof value === 'object' && value !== null) {
          const v = value as Json;
          if (typeof v.displayName === 'string') displayName = v.displayName;
          if (v.members !== undefined) members = membersOf(v.members);
        } else {
          throw new ScimError(400, `unsupported path ${path ?? '(none)'}`, 'invalidPath');
        }
      }
      const updated = { display_name: displayName, members: JSON.stringify(members), updated_at: now() };
      await withTenant(ctx.database, p.orgId, (scope) =>
        new ScimRepository(scope, ctx.people.cipher()).updateGroup({ ...row, ...updated }),
      );
      return groupResource({ ...row, ...updated });
    },

    async replaceGroup(p: ScimPrincipal, id: string, body: Json) {
      const row = await groupRow(p, id);
      const updated = {
        display_name: typeof body.displayName === 'string' ? body.displayName : row.display_name,
        external_id: typeof body.externalId === 'string' ? body.externalId : row.external_id,
        members: JSON.stringify(membersOf(body.members)),
        updated_at: now(),
      };
      await withTenant(ctx.database, p.orgId, (scope) =>
        new ScimRepository(scope, ctx.people.cipher()).updateGroup({ ...row, ...updated }),
      );
      return groupResource({ ...row, ...updated });
    },

    async deleteGroup(p: ScimPrincipal, id: string) {
      const deleted = await withTenant(ctx.database, p.orgId, (scope) =>
        new ScimRepository(scope, ctx.people.cipher()).deleteGroup(id),
      );
      if (!deleted) throw new ScimError(404, 'no such group');
    },
  };
}

export type ScimCommands = ReturnType<typeof scimCommands>;
