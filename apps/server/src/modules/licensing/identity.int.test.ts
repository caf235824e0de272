/**
 * Licensing wired as in production: the identity module authenticates sessions and names the caller's email
 * and orgs, platform/crypto's signing keys sign the licence token. No fakes.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { verifyValidationAnswer, type LicenseJwks } from '../../../../../packages/sdk/src/licensing/index.ts';
import { describeEachDialect } from '../../platform/db/testing.ts';
import { createTestApp, type TestApp } from '../../test/harness.ts';
import { identityService } from '../identity/index.ts';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describeEachDialect('licensing with the real identity module and signing keys', (h) => {
  let t: TestApp;
  let ops: Record<string, string>;
  const api = {
    post: (url: string, payload?: object, headers: Record<string, string> = {}) =>
      t.app.inject({ method: 'POST', url: `/api/v1${url}`, headers, ...(payload ? { payload } : {}) }),
    get: (url: string, headers: Record<string, string> = {}) =>
      t.app.inject({ method: 'GET', url: `/api/v1${url}`, headers }),
  };
  /** The verification link's token from identity's outbox (mail goes there when no SMTP URL is set). */
  async function verificationToken(email: string): Promise<string> {
    const mailer = identityService(t.platform).deps.mailer;
    await mailer.flush();
    const mail = mailer.outbox.find((m) => m.to === email);
    const m = /[?&]token=([A-Za-z0-9_\-.%]+)/.exec(mail?.text ?? '');
    if (!m?.[1]) throw new Error(`no verification mail to ${email}`);
    return decodeURIComponent(m[1]);
  }

  async function account(email: string, verify: boolean) {
    const password = 'a long enough secret for tests';
    expect(
      (await api.post('/accounts', { email, password, firstName: 'Test', lastName: 'User' })).statusCode,
    ).toBe(201);
    if (verify) {
      expect((await api.post('/accounts/verify', { token: await verificationToken(email) })).statusCode).toBe(
        200,
      );
    }
    const login = await api.post('/sessions', { email, password });
    const token = login.json<{ token: string }>().token;
    const me = (await api.get('/me', bearer(token))).json<{ id: string; orgs: { id: string }[] }>();
    return { auth: bearer(token), org: me.orgs[0]?.id ?? '', id: me.id };
  }

  beforeAll(async () => {
    t = await createTestApp({
      databaseUrl: h.url,
      env: {
        CANOPY_BOOTSTRAP_ADMIN_EMAIL: 'ops@canopy.test',
        CANOPY_BOOTSTRAP_ADMIN_PASSWORD: 'the operator secret, long',
      },
    });
    const login = await api.post('/sessions', {
      email: 'ops@canopy.test',
      password: 'the operator secret, long',
    });
    expect(login.statusCode).toBe(201);
    ops = bearer(login.json<{ token: string }>().token);
  });
  afterAll(() => t.close());

  it('validates a verified user’s seat and signs a token that verifies against the JWKS', async () => {
    const ada = await account('ada@example.com', true);
    const issued = await api.post('/admin/licenses', { orgId: ada.org, products: ['teams'], seats: 1 }, ops);
    expect(issued.statusCode).toBe(201);
    const id = issued.json<{ id: string }>().id;
    expect(
      (await api.post(`/orgs/${ada.org}/licenses/${id}/seats`, { email: 'ada@example.com' }, ada.auth))
        .statusCode,
    ).toBe(201);

    const res = await api.post(
      '/licenses/validate',
      { product: 'teams', fingerprint: 'pc', nonce: 'n-1' },
      ada.auth,
    );
    const body = res.json<{ valid: boolean; code: string; token: string; nonce: string; nonceMac: string }>();
    expect(body).toMatchObject({ valid: true, code: 'VALID' });
    const jwks = (await api.get('/licenses/keys')).json<LicenseJwks>();
    expect(jwks.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', status: 'active' });
    // The answer is bound to the nonce by a MAC keyed from Ada's real session token.
    const verified = await verifyValidationAnswer(body, jwks, {
      now: t.platform.clock.now(),
      product: 'teams',
      nonce: 'n-1',
      credential: ada.auth.authorization.slice('Bearer '.length),
    });
    expect(verified).toMatchObject({ valid: true, claims: { email: 'ada@example.com', org: ada.org } });

    // The mails go through the platform's outbox; the seat-limit report reaches the org's admin (Ada).
    expect(
      (await api.post(`/orgs/${ada.org}/licenses/${id}/seats`, { email: 'bob@example.com' }, ada.auth))
        .statusCode,
    ).toBe(409);
    const outbox = await t.platform.mail.list({ to: 'ada@example.com' });
    expect(outbox.map((m) => m.template).sort()).toEqual([
      'license_granted',
      'seat_limit_reached',
      'verify_email',
    ]);
    expect(outbox.find((m) => m.template === 'seat_limit_reached')?.text).toContain('bob@example.com');
  });

  it('gives an unverified account no seat, and refuses the portal to another org’s admin with 404', async () => {
    const ada = await account('ada2@example.com', true);
    const mallory = await account('eve@example.com', false);
    const id = (
      await api.post('/admin/licenses', { orgId: ada.org, products: ['teams'], seats: 2 }, ops)
    ).json<{ id: string }>().id;
    await api.post(`/orgs/${ada.org}/licenses/${id}/seats`, { email: 'eve@example.com' }, ada.auth);
    expect(
      (await api.post('/licenses/validate', { product: 'teams', fingerprint: 'x' }, mallory.auth)).json(),
    ).toMatchObject({ code: 'NOT_FOUND' });
    expect((await api.get(`/orgs/${ada.org}/licenses`, mallory.auth)).statusCode).toBe(404);
    expect((await api.post('/licenses/validate', { product: 'teams' })).statusCode).toBe(401);
  });

  it('lets only the operator issue, and only to an org that exists', async () => {
    const ada = await account('ada3@example.com', true);
    expect(
      (await api.post('/admin/licenses', { orgId: ada.org, products: ['teams'], seats: 1 }, ada.auth))
        .statusCode,
    ).toBe(403);
    expect(
      (await api.post('/admin/licenses', { orgId: 'no-such-org', products: ['teams'], seats: 1 }, ops))
        .statusCode,
    ).toBe(404);
  });

  it('stops validating a signed-out session at once, although the caller cache would keep it for 5 s', async () => {
    const ada = await account('ada4@example.com', true);
    const id = (
      await api.post('/admin/licenses', { orgId: ada.org, products: ['teams'], seats: 1 }, ops)
    ).json<{ id: string }>().id;
    await api.post(`/orgs/${ada.org}/licenses/${id}/seats`, { email: 'ada4@example.com' }, ada.auth);
    const validate = () => api.post('/licenses/validate', { product: 'teams', fingerprint: 'pc' }, ada.auth);
    // Twice: the second is a warm answer, served from the caches (no session read).
    for (let i = 0; i < 2; i++) expect((await validate()).json()).toMatchObject({ code: 'VALID' });
    expect(
      (await t.app.inject({ method: 'DELETE', url: '/api/v1/sessions/current', headers: ada.auth }))
        .statusCode,
    ).toBe(204);
    const after = await validate();
    expect(after.statusCode).toBe(401);
    expect(after.json()).toMatchObject({ code: 'unauthenticated' });
  });

  it('sees a changed membership at once, although the caller caches would keep the old one for 5 s', async () => {
    const ada = await account('ada5@example.com', true);
    const bob = await account('bob5@example.com', true);
    const team = (await api.post('/orgs', { name: 'Team' }, ada.auth)).json<{ id: string }>().id;
    await api.post(`/orgs/${team}/invitations`, { email: 'bob5@example.com', role: 'member' }, ada.auth);
    const mailer = identityService(t.platform).deps.mailer;
    await mailer.flush();
    const invitation = mailer.outbox.find((m) => m.to === 'bob5@example.com' && m.text.includes('invited'));
    const token = decodeURIComponent(/[?&]token=([^\s&]+)/.exec(invitation?.text ?? '')?.[1] ?? '');
    expect((await api.post('/invitations/accept', { token }, bob.auth)).statusCode).toBe(200);
    // Twice, so that the caller caches hold bob as a plain member of the team.
    for (let i = 0; i < 2; i++)
      expect((await api.get(`/orgs/${team}/licenses`, bob.auth)).statusCode).toBe(403);
    const promote = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/orgs/${team}/members/${bob.id}`,
      headers: ada.auth,
      payload: { role: 'admin' },
    });
    expect(promote.statusCode).toBe(204);
    expect((await api.get(`/orgs/${team}/licenses`, bob.auth)).statusCode).toBe(200);
  });
});
