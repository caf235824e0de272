/**
 * The licensing module: products, policies, licences, seats, activations, validation with signed licence
 * tokens, the operator and portal APIs, SCIM provisioning. Other modules use it only through this file.
 */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app.ts';
import { RouteBudget } from '../../platform/http/route-budget.ts';
import { sealClearRows } from './clear-rows.ts';
import { defineLicensingJobs } from './jobs.ts';
import { SEALED_MACHINE_FINGERPRINT, SEALED_MACHINE_NAME, SEALED_SEAT_EMAIL } from './personal-data.ts';
import { SEALED_SCIM_COLUMNS } from './scim-repo.ts';
import { adminRoutes } from './routes-admin.ts';
import { clientRoutes } from './routes-client.ts';
import { portalRoutes } from './routes-portal.ts';
import { scimRoutes } from './routes-scim.ts';
import { createLicensingService, type LicensingOptions, type LicensingService } from './service.ts';
import { MEMBERSHIPS_CHANGED_CHANNEL, SESSIONS_REVOKED_CHANNEL } from '../identity/index.ts';
import { defaultPorts, type LicensingPortOverrides } from './wiring.ts';

export { VALIDATION_CODES, type ValidationCode } from './codes.ts';
export { DEFAULT_PRODUCTS } from './context.ts';
export { EphemeralLicenseSigner } from './ephemeral-signer.ts';
export type {
  LicensingCaller,
  LicenseSigner,
  LicensingMail,
  LicensingMailer,
  OrgDirectory,
} from './ports.ts';
export type { AccountLookup, LicensingPortOverrides } from './wiring.ts';
export { createLicensingService, type LicensingService, type LicensingOptions } from './service.ts';

export interface LicensingModuleOptions extends LicensingOptions {
  ports?: LicensingPortOverrides;
}

/** Options travel on AppDeps as `licensing` (tests, embedding); read structurally so app.ts stays untouched. */
function optionsOf(deps: AppDeps): LicensingModuleOptions {
  return (deps as AppDeps & { licensing?: LicensingModuleOptions }).licensing ?? {};
}

/** The pub/sub channel on which a node says "licensing data changed: drop your caches". */
export const INVALIDATE_CHANNEL = 'licensing.invalidate';

const services = new WeakMap<AppDeps, LicensingService>();

/** The licensing service of one app (for other modules' index.ts and tests). */
export function licensingService(deps: AppDeps): LicensingService | undefined {
  return services.get(deps);
}

export async function licensingPlugin(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { platform } = deps;
  const options = optionsOf(deps);
  const service = createLicensingService(
    {
      database: platform.database,
      clock: platform.clock,
      logger: platform.logger.child({ module: 'licensing' }),
      publicUrl: platform.config.publicUrl,
      cipher: platform.crypto.cipher,
      ports: defaultPorts(app, platform, options.ports),
      broadcast: () => platform.pubsub.publish(INVALIDATE_CHANNEL, 'changed'),
    },
    { products: platform.config.licenseProducts, ...options },
  );
  services.set(deps, service);
  for (const column of [
    SEALED_SEAT_EMAIL,
    SEALED_MACHINE_FINGERPRINT,
    SEALED_MACHINE_NAME,
    ...SEALED_SCIM_COLUMNS,
  ])
    platform.crypto.dataKeys.registerColumn(column);
  await sealClearRows({
    database: platform.database,
    people: service.ctx.people,
    logger: service.ctx.logger,
  });
  // A change on any node (seat, suspension, expiry, release) clears every node's validation caches.
  const unsubscribe = await platform.pubsub.subscribe(INVALIDATE_CHANNEL, () =>
    service.validator.invalidate(),
  );
  // A revoked session stops validating, and a changed membership counts, at once on every node, not after the
  // caller caches' 5 s.
  const ports = service.ctx.ports;
  const forget = (accountId: string) => {
    ports.validationCaller.forget?.(accountId);
    ports.caller.forget?.(accountId);
  };
  const unsubscribeRevoked = await platform.pubsub.subscribe(SESSIONS_REVOKED_CHANNEL, forget);
  const unsubscribeMemberships = await platform.pubsub.subscribe(MEMBERSHIPS_CHANGED_CHANNEL, forget);
  app.addHook('onClose', async () => {
    await unsubscribe();
    await unsubscribeRevoked();
    await unsubscribeMemberships();
  });
  await defineLicensingJobs(platform.jobs, service.ctx);
  const validationBudget = new RouteBudget({
    max: platform.config.rateLimitPerMinute,
    windowMs: 60_000,
    redis: platform.redis,
    namespace: 'canopy-rl:validate:',
    logger: service.ctx.logger,
  });
  clientRoutes(app, service, validationBudget);
  adminRoutes(app, service);
  portalRoutes(app, service, platform.config.bodyLimitBytes);
  await app.register(async (scoped) => scimRoutes(scoped, service));
}
