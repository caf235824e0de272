import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../platform/db/testing.ts';
import { call, createLicensingTestApp, type LicensingTestApp } from './testing.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** A user as Microsoft Entra ID's provisioning service creates it. */
function entraUser(upn: string, externalId: string) {
  return {
    schemas: [USER, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
    externalId,
    userName: upn,
    active: true,
    displayName: 'Ada Lovelace',
    emails: [{ primary: true, type: 'work', value: upn }],
    name: { formatted: 'Ada Lovelace', familyName: 'Lovelace', givenName: 'Ada' },
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Engines' },
  };
}

describeEachDialect('SCIM provisioning', (h) => {
  let t: LicensingTestApp;
  let orgId: string;
  let licenseId: string;
  let scim: ReturnType<typeof call>;
  let admin: { token: string; caller: { email: string } };
  const json = { 'content-type': 'application/scim+json' };
  const validate = (email: string) =>
    call(t, t.identity.user(email).token)('POST', '/licenses/validate', {
      product: 'teams',
      fingerprint: 'f',
    });

  beforeAll(async () => {
    t = await createLicensingTestApp(h.url);
    const operator = call(t, t.identity.user('ops@canopy.test', {}, true).token);
    orgId = 'scim-org';
    admin = t.identity.user('it-admin@contoso.example', { [orgId]: 'admin' });
    licenseId = String(
      (await operator('POST', '/admin/licenses', { orgId, products: ['teams'], seats: 2 })).body?.id,
    );
    const cred = await call(t, admin.token)('POST', `/orgs/${orgId}/scim/credentials`, { licenseId });
    expect(cred.status).toBe(201);
    expect(String(cred.body?.scimBaseUrl)).toBe('https://canopy.test/api/v1/scim/v2');
    scim = call(t, String(cred.body?.secret));
  });
  afterAll(() => t.close());

  it('refuses requests without the org’s secret, with a SCIM error', async () => {
    const res = await call(t, 'scim_wrong')('GET', '/scim/v2/Users');
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toContain('application/scim+json');
    expect(res.body).toMatchObject({ schemas: [ERROR], status: '401' });
    expect((await call(t, undefined)('GET', '/scim/v2/Users')).status).toBe(401);
  });

  it('creates a user as Entra sends it, which takes a seat; Entra’s matching query finds it', async () => {
    const created = await scim(
      'POST',
      '/scim/v2/Users',
      JSON.stringify(entraUser('ada@contoso.example', 'e-1')),
      json,
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      schemas: [USER],
      userName: 'ada@contoso.example',
      externalId: 'e-1',
      active: true,
      name: { givenName: 'Ada' },
    });
    expect((await validate('ada@contoso.example')).body).toMatchObject({ code: 'VALID' });
    expect(t.mails.filter((m) => m.to === 'ada@contoso.example').map((m) => m.template)).toEqual([
      'license_granted',
    ]);

    const found = await scim(
      'GET',
      `/scim/v2/Users?filter=${encodeURIComponent('userName eq "ada@contoso.example"')}`,
    );
    expect(found.body).toMatchObject({ totalResults: 1, Resources: [{ id: created.body?.id }] });
    const none = await scim(
      'GET',
      `/scim/v2/Users?filter=${encodeURIComponent('userName eq "nobody@contoso.example"')}`,
    );
    expect(none.body).toMatchObject({ totalResults: 0, Resources: [] });
    expect(
      (await scim('POST', '/scim/v2/Users', entraUser('ada@contoso.example', 'e-1'))).body,
    ).toMatchObject({ status: '409', scimType: 'uniqueness' });
  });

  it('deactivates on PATCH active:"False" (Entra’s casing), keeping the seat; reactivates on a path-less replace', async () => {
    const id = String(
      (await scim('POST', '/scim/v2/Users', entraUser('bob@contoso.example', 'e-2'))).body?.id,
    );
    const off = await scim('PATCH', `/scim/v2/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ active: false });
    expect((await validate('bob@contoso.example')).body).toMatchObject({ code: 'SEAT_DEACTIVATED' });
    const seats = (await call(t, admin.token)('GET', `/orgs/${orgId}/licenses/${licenseId}/seats`))
      .body as unknown as { email: string; status: string }[];
    expect(seats).toContainEqual(
      expect.objectContaining({ email: 'bob@contoso.example', status: 'deactivated' }),
    );

    const on = await scim('PATCH', `/scim/v2/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { active: true, displayName: 'Bob B.' } }],
    });
    expect(on.body).toMatchObject({ active: true, displayName: 'Bob B.' });
    expect((await validate('bob@contoso.example')).body).toMatchObject({ code: 'VALID' });

    const renamed = await scim('PATCH', `/scim/v2/Users/${id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'Add', path: 'name.givenName', value: 'Robert' },
        { op: 'Replace', path: 'externalId', value: 'e-2b' },
      ],
    });
    expect(renamed.body).toMatchObject({ name: { givenName: 'Robert' }, externalId: 'e-2b' });
    expect(
      (await scim('PATCH', `/scim/v2/Users/${id}`, { Operations: [{ op: 'Frobnicate', path: 'active' }] }))
        .body,
    ).toMatchObject({ status: '400' });
  });

  it('refuses to provision past the seat count with a SCIM error and tells the org’s admins', async () => {
    const before = t.mails.filter((m) => m.template === 'seat_limit_reached').length;
    const res = await scim('POST', '/scim/v2/Users', entraUser('carol@contoso.example', 'e-3'));
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ schemas: [ERROR], status: '403' });
    expect(String(res.body?.detail)).toContain('seat_limit_reached');
    const reports = t.mails.filter((m) => m.template === 'seat_limit_reached');
    expect(reports.length).toBe(before + 1);
    expect(reports.at(-1)).toMatchObject({
      to: admin.caller.email,
      data: { email: 'carol@contoso.example', source: 'scim' },
    });
    const found = await scim(
      'GET',
      `/scim/v2/Users?filter=${encodeURIComponent('userName eq "carol@contoso.example"')}`,
    );
    expect(found.body).toMatchObject({ totalResults: 0 });
  });

  it('DELETE deprovisions for good and frees the seat', async () => {
    const list = (await scim('GET', '/scim/v2/Users')).body as unknown as {
      Resources: { id: string; userName: string }[];
    };
    const ada = list.Resources.find((u) => u.userName === 'ada@contoso.example')!;
    expect((await scim('DELETE', `/scim/v2/Users/${ada.id}`)).status).toBe(204);
    expect((await scim('GET', `/scim/v2/Users/${ada.id}`)).status).toBe(404);
    expect((await validate('ada@contoso.example')).body).toMatchObject({ code: 'NOT_FOUND' });
    expect((await scim('POST', '/scim/v2/Users', entraUser('carol@contoso.example', 'e-3'))).status).toBe(
      201,
    );
  });

  it('stores groups and their members as Entra patches them', async () => {
    const g = await scim('POST', '/scim/v2/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Engineers',
      externalId: 'g-1',
      members: [],
    });
    expect(g.status).toBe(201);
    const id = String(g.body?.id);
    await scim('PATCH', `/scim/v2/Groups/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Add', path: 'members', value: [{ value: 'u-1' }, { value: 'u-2' }] }],
    });
    const removed = await scim('PATCH', `/scim/v2/Groups/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Remove', path: 'members[value eq "u-1"]' }],
    });
    expect(removed.body).toMatchObject({ displayName: 'Engineers', members: [{ value: 'u-2' }] });
    const found = await scim(
      'GET',
      `/scim/v2/Groups?filter=${encodeURIComponent('displayName eq "Engineers"')}`,
    );
    expect(found.body).toMatchObject({ totalResults: 1 });
    expect((await scim('DELETE', `/scim/v2/Groups/${id}`)).status).toBe(204);
  });

  it('answers 401 once the secret is revoked', async () => {
    const cred = await call(t, admin.token)('POST', `/orgs/${orgId}/scim/credentials`, { licenseId });
    const other = call(t, String(cred.body?.secret));
    expect((await other('GET', '/scim/v2/Users')).status).toBe(200);
    expect(
      (await call(t, admin.token)('DELETE', `/orgs/${orgId}/scim/credentials/${String(cred.body?.id)}`))
        .status,
    ).toBe(204);
    expect((await other('GET', '/scim/v2/Users')).status).toBe(401);
  });
});
