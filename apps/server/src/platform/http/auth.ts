/**
 * Authentication and route classification: every route says who may call it, and this hook enforces it.
 *
 *   app.get('/orgs/:orgId/members', { config: { access: 'org-member' }, schema }, async (request) => {
 *     const auth = requireAuth(request); // the caller: account id, session id, how it authenticated
 *     ...
 *   });
 *
 * Access levels (`config.access`):
 * - `public`: anyone; no credentials are read.
 * - `authenticated`: a live session (bearer token, or the session cookie plus the CSRF header on a
 *   state-changing request); otherwise 401 `unauthenticated`.
 * - `org-member` / `org-admin`: authenticated and a member (or admin) of the org named by the route parameter
 *   `config.orgParam` (default `orgId`). Not a member, or no such org: 404 `not_found` (another tenant's object
 *   is never confirmed to exist); a member without the role: 403 `forbidden`.
 * - `operator`: authenticated as a platform operator (API.md, "Operating"); otherwise 403.
 * - `custom`: the route authenticates callers itself (SCIM bearer secrets, licence validation, webhooks);
 *   say how in `config.accessNote`.
 *
 * A route without `config.access` is listed in `app.routeAccess` with `access: undefined`, which the
 * classification test rejects, and logged at start. It is not enforced here (so that modules being built beside
 * this one keep working until they classify their routes); once every module does, make it deny.
 *
 * The platform does not know what a session is: the identity module supplies an `Authenticator` with
 * `app.authGate.use(...)`. Until one is supplied every non-public route answers 401.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { AppError, forbidden, notFound, unauthenticated } from '../errors.ts';

export const ACCESS_LEVELS = [
  'public',
  'authenticated',
  'org-member',
  'org-admin',
  'operator',
  'custom',
] as const;
export type Access = (typeof ACCESS_LEVELS)[number];
const isAccess = (v: unknown): v is Access => (ACCESS_LEVELS as readonly unknown[]).includes(v);
export type OrgRole = 'admin' | 'member';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** One of `Access` (a plain string is accepted by the types so that `const common = {config: {...}}` works). */
    access?: Access | (string & Record<never, never>);
    /** For org-member/org-admin: the route parameter that holds the org id. Default `orgId`. */
    orgParam?: string;
    /** For `custom`: how the route authenticates its callers. */
    accessNote?: string;
  }
  interface FastifyRequest {
    /** Set by the auth hook on routes that are not public; null when the route is public. */
    auth: AuthContext | null;
  }
  interface FastifyInstance {
    authGate: AuthGate;
    routeAccess: RouteAccessEntry[];
  }
}

export interface RouteAccessEntry {
  method: string;
  url: string;
  access: Access | undefined;
}

/** Who is calling: the account behind a live session. */
export interface Principal {
  readonly accountId: string;
  readonly sessionId: string;
  readonly via: 'bearer' | 'cookie';
  readonly operator: boolean;
  /** When the caller last proved their password (login or re-authentication), epoch ms. */
  readonly authenticatedAt: number;
  /** The account's personal org. */
  readonly homeTenantId: string;
}

export interface AuthContext extends Principal {
  /**
   * The org the caller acts in on routes without an org in the path: the `X-Canopy-Org` header (checked: a
   * non-member gets 404) or else the personal org.
   */
  readonly tenantId: string;
  /**
   * The caller's role in `orgId`, if it is at least `role`. Not a member: 404 `not_found`; a member without
   * the role: 403 `forbidden`.
   */
  requireOrgRole(orgId: string, role: OrgRole): Promise<OrgRole>;
}

/** What the identity module provides. */
export interface Authenticator {
  /** The principal of a live session token, or null (unknown, expired or revoked). May extend idle expiry. */
  resolve(token: string, via: Principal['via']): Promise<Principal | null>;
  /** The account's role in the org, or null when it is not a member (or the org does not exist). */
  orgRole(accountId: string, orgId: string): Promise<OrgRole | null>;
}

export const CSRF_HEADER = 'x-csrf-token';
export const ORG_HEADER = 'x-canopy-org';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The session cookie's name: with `__Host-` (which browsers accept only with Secure, Path=/ and no Domain) on HTTPS. */
export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-canopy_session' : 'canopy_session';
}

/** Whether the request arrived over HTTPS (natively or through a trusted proxy). */
export function isSecureRequest(request: FastifyRequest): boolean {
  return request.protocol === 'https';
}

/**
 * The CSRF token of a session: derived from the session token, so nothing more is stored and a cross-site
 * attacker, who cannot read the cookie, cannot compute it. The browser app keeps it from the login answer.
 */
export function csrfTokenFor(sessionToken: string): string {
  return createHash('sha256').update(`canopy/v1/csrf\n${sessionToken}`, 'utf8').digest('base64url');
}

export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Sets (maxAgeSeconds > 0) or clears (0) the session cookie: HttpOnly, SameSite=Lax, Secure on HTTPS. */
export function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  token: string,
  maxAgeSeconds: number,
): void {
  const secure = isSecureRequest(request);
  const parts = [
    `${sessionCookieName(secure)}=${maxAgeSeconds > 0 ? encodeURIComponent(token) : ''}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Lax',
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
  ];
  if (secure) parts.push('Secure');
  void reply.header('set-cookie', parts.join('; '));
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The caller of a non-public route (the hook has already rejected unauthenticated calls). */
export function requireAuth(request: FastifyRequest): AuthContext {
  if (!request.auth) throw unauthenticated();
  return request.auth;
}

export class AuthGate {
  private authenticator: Authenticator | undefined;

  use(authenticator: Authenticator): void {
    if (this.authenticator) throw new Error('an authenticator is already installed');
    this.authenticator = authenticator;
  }

  /** Reads the credentials of a request: a bearer token wins over the cookie. */
  private credentials(request: FastifyRequest): { token: string; via: Principal['via'] } | undefined {
    const header = request.headers.authorization;
    if (header) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!m?.[1]) throw unauthenticated('The Authorization header is not a bearer token.');
      return { token: m[1], via: 'bearer' };
    }
    // Only the name this scheme sets: on HTTPS a plain `canopy_session` (which a sibling host could plant) is ignored.
    const cookie = readCookie(request, sessionCookieName(isSecureRequest(request)));
    return cookie ? { token: cookie, via: 'cookie' } : undefined;
  }

  async authenticate(request: FastifyRequest): Promise<AuthContext> {
    const credentials = this.credentials(request);
    if (!credentials || !this.authenticator) throw unauthenticated();
    if (credentials.via === 'cookie' && !SAFE_METHODS.has(request.method)) {
      const sent = request.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !sameText(sent, csrfTokenFor(credentials.token))) {
        throw new AppError(
          403,
          'csrf_failed',
          `A state-changing request with the session cookie needs the ${CSRF_HEADER} header from login.`,
        );
      }
    }
    const principal = await this.authenticator.resolve(credentials.token, credentials.via);
    if (!principal) throw unauthenticated('The session is unknown, expired or revoked.');
    const authenticator = this.authenticator;
    const requireOrgRole = async (orgId: string, role: OrgRole): Promise<OrgRole> => {
      const actual = await authenticator.orgRole(principal.accountId, orgId);
      if (!actual) throw notFound();
      if (role === 'admin' && actual !== 'admin')
        throw forbidden('This needs the admin role in the organisation.');
      return actual;
    };
    const org = request.headers[ORG_HEADER];
    const tenantId =
      typeof org === 'string' && org && org !== principal.homeTenantId ? org : principal.homeTenantId;
    if (tenantId !== principal.homeTenantId) await requireOrgRole(tenantId, 'member');
    return { ...principal, tenantId, requireOrgRole };
  }
}

/** Routes the platform itself registers (health, metrics, the OpenAPI document and its browsable docs). */
const PLATFORM_ROUTES: { test: (url: string, method: string) => boolean; access: Access }[] = [
  // The browser app (platform/http/web-app.ts): its static files (one GET route per file) and the client-side
  // route fallback. Only GETs of `/`, `/*` or a path with a file extension, outside the API.
  {
    test: (u, m) =>
      m === 'GET' && !u.startsWith('/api/') && (u === '/' || u === '/*' || /\/[^/]+\.[A-Za-z0-9]+$/.test(u)),
    access: 'public',
  },
  { test: (u) => u === '/healthz' || u === '/readyz', access: 'public' },
  // Restricted by CANOPY_METRICS_ALLOW (by address), not by account.
  { test: (u) => u === '/metrics', access: 'public' },
  {
    test: (u) => u === '/api/v1/openapi.json' || u === '/api/docs' || u.startsWith('/api/docs/'),
    access: 'public',
  },
];

/**
 * Installs the gate and the classification. Call it before any route is registered (it classifies routes as
 * they are added).
 */
export function installAuth(app: FastifyInstance): AuthGate {
  const gate = new AuthGate();
  const routeAccess: RouteAccessEntry[] = [];
  app.decorate('authGate', gate);
  app.decorate('routeAccess', routeAccess);
  app.decorateRequest('auth', null);

  app.addHook('onRoute', (route) => {
    const given = route.config?.access;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const platformRoute = (method: string) => PLATFORM_ROUTES.find((r) => r.test(route.url, method))?.access;
    const declared = isAccess(given)
      ? given
      : given === undefined && methods.every((m) => m === 'HEAD' || platformRoute(m))
        ? platformRoute(methods.find((m) => m !== 'HEAD') ?? 'GET')
        : undefined;
    for (const method of methods)
      if (method !== 'HEAD') routeAccess.push({ method, url: route.url, access: declared });
    if (!declared) {
      // Fail closed: a route nobody classified answers nothing useful to anyone (and a test names it).
      app.log.error(
        { url: route.url, method: route.method, given },
        'route without a valid config.access (platform/http/auth.ts): it will refuse every request',
      );
      const deny = async (): Promise<void> => {
        throw new AppError(500, 'route_unclassified', 'This route has no access classification.');
      };
      const existing = route.onRequest;
      const handler = deny as unknown as onRequestHookHandler;
      route.onRequest = existing
        ? [...(Array.isArray(existing) ? existing : [existing]), handler]
        : [handler];
      return;
    }
    const access = declared;
    if (access === 'public' || access === 'custom') return;
    // The OpenAPI document says which operations need a session (swagger reads the schema after this hook).
    const schema = route.schema as (Record<string, unknown> & { security?: unknown }) | undefined;
    if (schema && schema.security === undefined) schema.security = [{ bearer: [] }];
    const orgParam = route.config?.orgParam ?? 'orgId';
    const hook = async (request: FastifyRequest): Promise<void> => {
      const auth = await gate.authenticate(request);
      request.auth = auth;
      if (access === 'operator' && !auth.operator) throw forbidden('This needs the operator role.');
      if (access === 'org-member' || access === 'org-admin') {
        const orgId = (request.params as Record<string, string | undefined>)[orgParam];
        if (!orgId) throw notFound();
        await auth.requireOrgRole(orgId, access === 'org-admin' ? 'admin' : 'member');
      }
    };
    const existing = route.onRequest;
    const handler = hook as unknown as onRequestHookHandler;
    route.onRequest = existing ? [...(Array.isArray(existing) ? existing : [existing]), handler] : [handler];
  });
  return gate;
}
