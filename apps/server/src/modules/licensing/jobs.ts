/**
 * Licensing's jobs on the platform JobQueue: the activation culler (machines silent for two heartbeat intervals
 * are deleted, freeing their machine slots and floating seats) and the expiry sweep (active licences past their
 * date are marked expired; the validator already treats them so, the sweep keeps lists and exports honest).
 */
import type { JobQueue } from '../../platform/jobs/queue.ts';
import type { LicensingContext } from './context.ts';
import { aliveSince } from './policies.ts';

export const CULL_ACTIVATIONS_JOB = 'licensing.cull_activations';
export const EXPIRE_LICENSES_JOB = 'licensing.expire_licenses';

export function activationCuller(ctx: LicensingContext) {
  return async (): Promise<number> => {
    const now = ctx.clock.now().getTime();
    const deadBefore = new Map((await ctx.policies.all()).map((p) => [p.id, aliveSince(p, now)]));
    const culled = await ctx.directory.cullActivations(deadBefore);
    if (culled) {
      ctx.invalidate();
      ctx.logger.info({ culled }, 'dead licence activations culled');
    }
    return culled;
  };
}

export function licenceExpirySweep(ctx: LicensingContext) {
  return async (): Promise<number> => {
    const expired = await ctx.directory.expireLicenses(ctx.clock.now().getTime());
    if (expired) ctx.invalidate();
    return expired;
  };
}

export async function defineLicensingJobs(jobs: JobQueue, ctx: LicensingContext): Promise<void> {
  const cull = activationCuller(ctx);
  const sweep = licenceExpirySweep(ctx);
  jobs.define(CULL_ACTIVATIONS_JOB, async () => void (await cull()));
  jobs.define(EXPIRE_LICENSES_JOB, async () => void (await sweep()));
  await jobs.schedule(CULL_ACTIVATIONS_JOB, 10 * 60_000);
  await jobs.schedule(EXPIRE_LICENSES_JOB, 60 * 60_000);
}
