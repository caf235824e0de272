import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installProblemHandlers } from './problem.ts';
import { csrfTokenFor, installAuth, requireAuth, type Authenticator, type OrgRole } from './auth.ts';

const sessions: Record<string, { accountId: string; operator: boolean }> = {
  'tok-ada': { accountId: 'ada', operator: false },
  'tok-ops': { accountId: 'ops', operator: true },
};
const roles: Record<string, Record<string, OrgRole>> = {
  'org-1': { ada: 'member' },
  'org-2': { ada: 'admin' },
};

const fake: Authenticator = {
  resolve: async (token, via) => {
    const s = sessions[token];
    return s
      ? { ...s, sessionId: `s-${token}`, via, authenticatedAt: 0, homeTenantId: `home-${s.accountId}` }
      : null;
  },
  orgRole: async (accountId, orgId) => roles[orgId]?.[accountId] ?? null,
};

describe('the auth hook and route classification', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = Fastify();
    installProblemHandlers(app);
    installAuth(app);
    app.authGate.use(fake);
    const who = async (request: Parameters<typeof requireAuth>[0]) => {
      const a = requireAuth(request);
      return { accountId: a.accountId, via: a.via, tenantId: a.tenantId };
    };
    app.get('/open', { config: { access: 'public' } }, async (request) => ({ auth: request.auth }));
    app.get('/mine', { config: { access: 'authenticated' } }, who);
    app.post('/mine', { config: { access: 'authenticated' } }, who);
    app.get('/orgs/:orgId/x', { config: { access: 'org-member' } }, who);
    app.post('/orgs/:orgId/x', { config: { access: 'org-admin' } }, who);
    app.get('/teams/:team/x', { config: { access: 'org-admin', orgParam: 'team' } }, who);
    app.get('/ops', { config: { access: 'operator' } }, who);
    app.get(
      '/own-auth',
      { config: { access: 'custom', accessNote: 'checks a signature' } },
      async (request) => ({ auth: request.auth }),
    );
    app.get('/forgotten', async () => ({ ok: true }));
    app.get('/healthz', async () => ({ ok: true }));
    await app.ready();
  });
  afterAll(() => app.close());

  const get = (url: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url, headers });
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

  it('classifies every route, the platform’s own included, and flags the ones without a level', () => {
    const byUrl = Object.fromEntries(app.routeAccess.map((r) => [`${r.method} ${r.url}`, r.access]));
    expect(byUrl['GET /open']).toBe('public');
    expect(byUrl['GET /healthz']).toBe('public');
    expect(byUrl['GET /own-auth']).toBe('custom');
    expect(byUrl['GET /forgotten']).toBeUndefined();
  });

  it('reads no credentials on public and custom routes', async () => {
    expect((await get('/open', bearer('tok-ada'))).json()).toEqual({ auth: null });
    expect((await get('/own-auth', bearer('nonsense'))).json()).toEqual({ auth: null });
  });

  it('needs a live session on authenticated routes: 401 otherwise', async () => {
    expect((await get('/mine')).json()).toMatchObject({ status: 401, code: 'unauthenticated' });
    expect((await get('/mine', bearer('tok-unknown'))).statusCode).toBe(401);
    expect((await get('/mine', { authorization: 'Basic abc' })).statusCode).toBe(401);
    expect((await get('/mine', bearer('tok-ada'))).json()).toEqual({
      accountId: 'ada',
      via: 'bearer',
      tenantId: 'home-ada',
    });
  });

  it('takes the session cookie, and then needs the CSRF header on state-changing requests', async () => {
    const cookie = { cookie: 'other=1; canopy_session=tok-ada' };
    expect((await get('/mine', cookie)).json()).toMatchObject({ via: 'cookie' });
    const post = (headers: Record<string, string>) => app.inject({ method: 'POST', url: '/mine', headers });
    expect((await post(cookie)).json()).toMatchObject({ status: 403, code: 'csrf_failed' });
    expect((await post({ ...cookie, 'x-csrf-token': csrfTokenFor('tok-ops') })).statusCode).toBe(403);
    expect((await post({ ...cookie, 'x-csrf-token': csrfTokenFor('tok-ada') })).statusCode).toBe(200);
    // Over plain HTTP only the plain name is read (the __Host- one is set and read on HTTPS only).
    expect(
      (await post({ cookie: '__Host-canopy_session=tok-ada', 'x-csrf-token': csrfTokenFor('tok-ada') }))
        .statusCode,
    ).toBe(401);
    expect((await post(bearer('tok-ada'))).statusCode).toBe(200);
  });

  it('answers 404 to a non-member and 403 to a member without the role', async () => {
    expect((await get('/orgs/org-1/x', bearer('tok-ada'))).statusCode).toBe(200);
    expect((await get('/orgs/org-3/x', bearer('tok-ada'))).json()).toMatchObject({
      status: 404,
      code: 'not_found',
    });
    const post = (org: string) =>
      app.inject({ method: 'POST', url: `/orgs/${org}/x`, headers: bearer('tok-ada') });
    expect((await post('org-1')).json()).toMatchObject({ status: 403, code: 'forbidden' });
    expect((await post('org-2')).statusCode).toBe(200);
    expect((await post('org-3')).statusCode).toBe(404);
    expect((await get('/teams/org-2/x', bearer('tok-ada'))).statusCode).toBe(200);
    expect((await get('/teams/org-1/x', bearer('tok-ada'))).statusCode).toBe(403);
  });

  it('lets operators, and only them, call operator routes', async () => {
    expect((await get('/ops', bearer('tok-ops'))).statusCode).toBe(200);
    expect((await get('/ops', bearer('tok-ada'))).statusCode).toBe(403);
  });

  it('acts in the org named by X-Canopy-Org when the caller is a member; 404 otherwise', async () => {
    expect((await get('/mine', { ...bearer('tok-ada'), 'x-canopy-org': 'org-1' })).json()).toMatchObject({
      tenantId: 'org-1',
    });
    expect((await get('/mine', { ...bearer('tok-ada'), 'x-canopy-org': 'org-9' })).statusCode).toBe(404);
  });
});
