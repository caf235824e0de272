/**
 * Binds licensing's ports: the caller and the org directory to the identity module (through its index.ts and
 * the platform's auth gate), signing to platform/crypto's 'license' keys, mail to platform/mail. Tests and
 * embedders override any of them (`AppDeps.licensing.ports`). Without identity, it says so at start and every
 * call answers 401.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Platform } from '../../platform/index.ts';
import { identityService, type IdentityService } from '../identity/index.ts';
import type {
  CallerResolver,
  LicenseSigner,
  LicensingCaller,
  LicensingMailer,
  LicensingPorts,
  OrgDirectory,
  OrgRole,
  ValidationCallerResolver,
} from './ports.ts';

/** What licensing needs to know about an account beyond the session: its email and its orgs. */
export interface AccountLookup {
  account(
    accountId: string,
  ): Promise<{ email: string; emailVerified: boolean; orgs: ReadonlyMap<string, OrgRole> } | undefined>;
}

interface GateLike {
  authenticate(request: FastifyRequest): Promise<{ accountId: string; operator: boolean }>;
}

/**
 * The caller of a request: the platform's auth gate (platform/http/auth.ts, fed by identity) authenticates the
 * session, and the account lookup adds the email and memberships (cached for a few seconds: this runs on
 * every validation).
 */
export function gateCallerResolver(
  app: FastifyInstance,
  accounts: AccountLookup,
  ttlMs = 5_000,
): CallerResolver {
  const cache = new Map<string, { at: number; value: LicensingCaller | undefined }>();
  const resolve = async (request: FastifyRequest): Promise<LicensingCaller | undefined> => {
    const gate = (app as unknown as { authGate?: GateLike }).authGate;
    const existing = (request as unknown as { auth?: { accountId: string; operator: boolean } | null }).auth;
    const principal = existing ?? (gate ? await gate.authenticate(request) : undefined);
    if (!principal) return undefined;
    const now = Date.now();
    const key = `${principal.accountId}|${principal.operator}`;
    const hit = cache.get(key);
    if (hit && now - hit.at < ttlMs) return hit.value;
    const account = await accounts.account(principal.accountId);
    const value = account
      ? {
          accountId: principal.accountId,
          email: account.email.toLowerCase(),
          emailVerified: account.emailVerified,
          operator: principal.operator,
          orgs: account.orgs,
        }
      : undefined;
    if (cache.size > 50_000) cache.clear();
    cache.set(key, { at: now, value });
    return value;
  };
  const forget = (accountId: string): void => {
    cache.delete(`${accountId}|false`);
    cache.delete(`${accountId}|true`);
  };
  return Object.assign(resolve, { forget });
}

/**
 * For the validation route only: remembers who a bearer token belongs to for `ttlMs`, so a client restart costs
 * no session read. A revoked session or a changed membership is forgotten at once (`forget`, called on
 * identity's messages); if a message is lost, the token still validates as before for up to `ttlMs` on a node,
 * which is nothing beside the days of offline use the licence token it gets already grants.
 */
export function tokenCachedCaller(inner: CallerResolver, ttlMs = 5_000): ValidationCallerResolver {
  // Keyed by the header itself (hashing it cost more than the rest of the lookup): the map stays in this process,
  // as the request that carried the header does.
  const cache = new Map<string, { at: number; caller: LicensingCaller }>();
  const known = (request: FastifyRequest): LicensingCaller | undefined => {
    const header = request.headers.authorization;
    if (!header) return undefined;
    const hit = cache.get(header);
    const now = Date.now();
    return hit && now >= hit.at && now - hit.at < ttlMs ? hit.caller : undefined;
  };
  const resolve = async (request: FastifyRequest): Promise<LicensingCaller | undefined> => {
    const header = request.headers.authorization;
    if (!header) return inner(request);
    const hit = known(request);
    if (hit) return hit;
    const caller = await inner(request);
    if (caller) {
      if (cache.size >= 50_000) cache.clear();
      cache.set(header, { at: Date.now(), caller });
    }
    return caller;
  };
  const forget = (accountId: string): void => {
    for (const [header, entry] of cache) if (entry.caller.accountId === accountId) cache.delete(header);
    inner.forget?.(accountId);
  };
  return Object.assign(resolve, { known, forget });
}

/** The identity module as licensing sees it: accounts (email, verified) and orgs (memberships, admins). */
export function identityPorts(identity: IdentityService): { accounts: AccountLookup; orgs: OrgDirectory } {
  return {
    accounts: {
      async account(accountId) {
        const row = await identity.accounts.byId(accountId);
        if (!row) return undefined;
        const account = await identity.accounts.open(row);
        const orgs = await identity.orgs.listForAccount(accountId);
        return {
          email: account.email,
          emailVerified: account.emailVerified,
          orgs: new Map(orgs.map((o) => [o.id, o.role])),
        };
      },
    },
    orgs: {
      async adminEmails(orgId) {
        return (await identity.orgs.members(orgId)).filter((m) => m.role === 'admin').map((m) => m.email);
      },
      // Every org has at least one member (its creator), so an org without members does not exist.
      async orgExists(orgId) {
        return (await identity.orgs.members(orgId)).length > 0;
      },
    },
  };
}

/** platform/mail: the org is the mail's tenant (the outbox seals it under that org's key). */
function platformMailer(platform: Platform): LicensingMailer {
  return {
    send: async (m) =>
      void (await platform.mail.send({
        to: m.to,
        template: m.template,
        data: m.data,
        ...(typeof m.data.orgId === 'string' ? { tenantId: m.data.orgId } : {}),
      })),
  };
}

/** Until identity offers an org directory: nobody to tell, and every org id is taken on trust. */
export const permissiveOrgs: OrgDirectory = {
  adminEmails: async () => [],
  orgExists: async () => true,
};

/** The identity module's service, when it is registered on this platform (it is, in the app). */
function registeredIdentity(platform: Platform): IdentityService | undefined {
  try {
    return identityService(platform);
  } catch {
    return undefined;
  }
}

export interface LicensingPortOverrides {
  caller?: CallerResolver;
  validationCaller?: ValidationCallerResolver;
  accounts?: AccountLookup;
  signer?: LicenseSigner;
  mailer?: LicensingMailer;
  orgs?: OrgDirectory;
}

export function defaultPorts(
  app: FastifyInstance,
  platform: Platform,
  overrides: LicensingPortOverrides = {},
): LicensingPorts {
  const log = platform.logger;
  const missing: string[] = [];
  const identity = registeredIdentity(platform);
  const fromIdentity = identity ? identityPorts(identity) : undefined;
  const accounts = overrides.accounts ?? fromIdentity?.accounts;
  let caller = overrides.caller;
  if (!caller) {
    if (accounts) caller = gateCallerResolver(app, accounts);
    else {
      missing.push('identity account lookup (every licensing call answers 401)');
      caller = async () => undefined;
    }
  }
  const signer = overrides.signer ?? platform.crypto.signing;
  const mailer = overrides.mailer ?? platformMailer(platform);
  const orgs = overrides.orgs ?? fromIdentity?.orgs ?? permissiveOrgs;
  if (!overrides.orgs && !fromIdentity)
    missing.push('identity org directory (seat-limit reports go nowhere; org ids are not checked)');
  if (missing.length) log.warn({ missing }, 'licensing runs with stand-in ports');
  const validationCaller =
    overrides.validationCaller ?? (overrides.caller ? caller : tokenCachedCaller(caller));
  return { caller, validationCaller, signer, mailer, orgs };
}
