/** Machines, as a client manages them: activate explicitly, heartbeat, release (frees a machine slot). */
import { withTenant } from '../../platform/db/tenant.ts';
import { isoOf, type LicensingContext } from './context.ts';
import { licensingErrors } from './errors.ts';
import { aliveSince } from './policies.ts';
import type { LicensingCaller } from './ports.ts';
import { LicenseRepository } from './repo.ts';
import type { OpenedActivation } from './personal-data.ts';
import type { LicenseValidator } from './validator.ts';

export function activationView(row: OpenedActivation) {
  return {
    id: row.id,
    licenseId: row.license_id,
    fingerprint: row.fingerprint,
    name: row.name,
    createdAt: isoOf(Number(row.created_at)),
    lastHeartbeatAt: isoOf(Number(row.last_heartbeat_at)),
  };
}

export function activationCommands(ctx: LicensingContext, validator: LicenseValidator) {
  const now = () => ctx.clock.now().getTime();

  /** The caller's own activation by id, with its licence's policy; anyone else's is "not found". */
  async function mine(caller: LicensingCaller, id: string) {
    const row = await ctx.directory.activation(id);
    const { index } = await ctx.people.holder(caller.email);
    if (!row || row.email_index !== index) throw licensingErrors.activationNotFound();
    const lic = await withTenant(ctx.database, row.tenant_id, (scope) =>
      new LicenseRepository(scope).license(row.license_id),
    );
    if (!lic) throw licensingErrors.activationNotFound();
    return { row, lic, policy: await ctx.policies.get(lic.policy_id) };
  }

  return {
    /** Validates for the product and activates the machine; refusals are 409 with the validation code. */
    async activate(caller: LicensingCaller, input: { product: string; fingerprint: string; name?: string }) {
      const reply = await validator.validate(caller, {
        product: input.product,
        fingerprint: input.fingerprint,
      });
      if (reply.code === 'TOO_MANY_MACHINES') throw licensingErrors.tooManyMachines(reply.detail);
      if (!reply.valid || !reply.license) throw licensingErrors.licenseInactive(reply.code);
      let activationId = reply.license.activationId;
      if (!activationId) {
        // A licence that does not track machines still records one that asks to be activated.
        const lic = await ctx.directory.findLicense(reply.license.id);
        if (!lic) throw licensingErrors.licenseNotFound();
        const policy = await ctx.policies.get(lic.policy_id);
        const r = await validator.activate(
          caller.email,
          input.fingerprint,
          input.name ?? null,
          lic,
          policy,
          now(),
        );
        if (typeof r === 'string') throw licensingErrors.licenseInactive(r);
        activationId = r.id;
      }
      const row = await ctx.directory.activation(activationId);
      if (!row) throw licensingErrors.activationNotFound();
      if (input.name !== undefined) {
        // Validation found or created the activation without a name: the client's name for it is kept now.
        const name_sealed = await ctx.people.sealMachineName(row.tenant_id, row.id, input.name);
        await withTenant(ctx.database, row.tenant_id, (scope) =>
          new LicenseRepository(scope).nameActivation(row.id, name_sealed),
        );
        row.name_sealed = name_sealed;
      }
      return activationView(await ctx.people.openMachine(row.tenant_id, row));
    },

    /** Keeps a machine alive; a dead (or culled) one answers 404 and the client validates again. */
    async heartbeat(caller: LicensingCaller, id: string) {
      const { row, policy } = await mine(caller, id);
      const t = now();
      if (Number(row.last_heartbeat_at) < aliveSince(policy, t)) throw licensingErrors.activationNotFound();
      await withTenant(ctx.database, row.tenant_id, (scope) =>
        new LicenseRepository(scope).touchActivation(id, t),
      );
      return activationView({ ...(await ctx.people.openMachine(row.tenant_id, row)), last_heartbeat_at: t });
    },

    async release(caller: LicensingCaller, id: string) {
      const { row } = await mine(caller, id);
      await withTenant(ctx.database, row.tenant_id, (scope) =>
        new LicenseRepository(scope).deleteActivation(id),
      );
      ctx.invalidate();
    },
  };
}

export type ActivationCommands = ReturnType<typeof activationCommands>;
