/**
 * The identity module: accounts, orgs (tenants) and memberships, sessions, SRP and password login, MFA,
 * password reset, the audit log and its IP purge. See README.md. Other modules use it through this file:
 * `identityService(platform)` once the app is built, and `request.auth` (platform/http/auth.ts) in routes.
 */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app.ts';
import type { Platform } from '../../platform/index.ts';
import { accountRoutes } from './routes-accounts.ts';
import { meRoutes } from './routes-me.ts';
import { orgRoutes } from './routes-orgs.ts';
import { sessionRoutes } from './routes-sessions.ts';
import { createIdentityService, scheduleIdentityJobs, type IdentityService } from './service.ts';

export type { IdentityService } from './service.ts';
export type { Account } from './account-store.ts';
export type { AuditAction, AuditEntry, AuditEvent } from './audit.ts';
export type { IdentityMail } from './mail.ts';
export { AUDIT_IP_PURGE_JOB } from './audit.ts';
export { EXPIRED_PURGE_JOB, MEMBERSHIPS_CHANGED_CHANNEL, SESSIONS_REVOKED_CHANNEL } from './service.ts';
export { totpCode } from './mfa.ts';

const services = new WeakMap<Platform, IdentityService>();

/** The identity service of a built app (for other modules' commands and for tests). */
export function identityService(platform: Platform): IdentityService {
  const service = services.get(platform);
  if (!service) throw new Error('the identity module is not registered on this platform');
  return service;
}

export async function identityModule(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const identity = createIdentityService(deps.platform);
  services.set(deps.platform, identity);
  app.authGate.use(identity.sessions);
  app.addHook('onClose', () => identity.close());

  accountRoutes(app, identity);
  sessionRoutes(app, identity);
  meRoutes(app, identity);
  orgRoutes(app, identity);

  await scheduleIdentityJobs(deps.platform);
  await identity.bootstrap.run(deps.platform.config);
}
