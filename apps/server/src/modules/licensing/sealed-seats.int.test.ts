/**
 * Seat emails and SCIM records at rest: sealed with the org's data key, found by blind indexes (personal-data.ts,
 * scim-repo.ts). Lookups by
 * email still answer as before (validation, the portal, CSV), the rows hold no email, and a tenant key rotation
 * re-seals them (the old key is destroyed, and everything still reads).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { withTenant } from '../../platform/db/tenant.ts';
import { describeEachDialect } from '../../platform/db/testing.ts';
import { call, createLicensingTestApp, type LicensingTestApp } from './testing.ts';

describeEachDialect('sealed seat emails', (h) => {
  let t: LicensingTestApp;
  let operator: ReturnType<typeof call>;
  let n = 0;

  async function org() {
    const orgId = `sorg-${++n}`;
    const admin = t.identity.user(`sadmin${n}@example.com`, { [orgId]: 'admin' });
    const res = await operator('POST', '/admin/licenses', { orgId, products: ['desktop-mac'], seats: 5 });
    expect(res.status).toBe(201);
    const licenseId = String(res.body?.id);
    return { orgId, licenseId, asAdmin: call(t, admin.token), base: `/orgs/${orgId}/licenses/${licenseId}` };
  }
  const validate = (token: string) =>
    call(t, token)('POST', '/licenses/validate', { product: 'desktop-mac', fingerprint: 'fp-1' });
  const storedRows = (orgId: string) =>
    withTenant(t.platform.database, orgId, async ({ trx }) => ({
      seats: await trx.selectFrom('license_assignments').selectAll().where('tenant_id', '=', orgId).execute(),
      machines: await trx.selectFrom('license_machines').selectAll().where('tenant_id', '=', orgId).execute(),
    }));

  beforeAll(async () => {
    t = await createLicensingTestApp(h.url);
    operator = call(t, t.identity.user('vendor@canopy.test', {}, true).token);
  });
  afterAll(() => t.close());

  it('finds a seat by the email’s blind index: NO_SEAT before, VALID once seated (any case), NO_SEAT once removed', async () => {
    const o = await org();
    const user = t.identity.user('Grace.Hopper@Example.com', { [o.orgId]: 'member' });
    expect((await validate(user.token)).body).toMatchObject({ valid: false, code: 'NO_SEAT' });
    expect((await o.asAdmin('POST', `${o.base}/seats`, { email: 'GRACE.hopper@example.com' })).status).toBe(
      201,
    );
    expect((await validate(user.token)).body).toMatchObject({ valid: true, code: 'VALID' });
    expect((await call(t, user.token)('GET', '/licenses/mine')).body).toMatchObject([
      { licenseId: o.licenseId, seatStatus: 'active' },
    ]);
    expect((await o.asAdmin('DELETE', `${o.base}/seats/grace.hopper@example.com`)).status).toBe(204);
    expect((await validate(user.token)).body).toMatchObject({ valid: false, code: 'NO_SEAT' });
  });

  it('stores no email: the seat’s email is sealed, the machine names its holder by the index only', async () => {
    const o = await org();
    const user = t.identity.user('ada.lovelace@example.org', { [o.orgId]: 'member' });
    await o.asAdmin('POST', `${o.base}/seats`, { email: 'ada.lovelace@example.org' });
    expect((await validate(user.token)).body).toMatchObject({ code: 'VALID' });
    const { seats, machines } = await storedRows(o.orgId);
    expect(seats).toHaveLength(1);
    expect(machines).toHaveLength(1);
    const text = JSON.stringify([...seats, ...machines], (_k, v: unknown) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
    );
    expect(text.toLowerCase()).not.toContain('lovelace');
    expect(machines[0]?.email_index).toBe(seats[0]?.email_index);
    // The sealed value is bound to its row: under another seat id it does not open.
    const sealed = seats[0]!.email_sealed;
    const ref = { table: 'license_assignments', column: 'email_sealed' };
    expect(await t.platform.crypto.cipher.openText(o.orgId, { ...ref, id: seats[0]!.id }, sealed)).toBe(
      'ada.lovelace@example.org',
    );
    await expect(
      t.platform.crypto.cipher.openText(o.orgId, { ...ref, id: 'other' }, sealed),
    ).rejects.toThrow();
  });

  it('round-trips the seats through CSV (export opens the emails, in order; import finds them by index)', async () => {
    const o = await org();
    for (const email of ['zoe@example.com', 'amy@example.com'])
      await o.asAdmin('POST', `${o.base}/seats`, { email });
    await o.asAdmin('POST', `${o.base}/seats/zoe@example.com/deactivate`);
    const csv = (await o.asAdmin('GET', `${o.base}/seats.csv`)).text;
    const lines = csv.trim().split(/\r?\n/);
    expect(lines[0]).toBe('email,status,assigned_at');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 2).join(','))).toEqual([
      'amy@example.com,active',
      'zoe@example.com,deactivated',
    ]);
    const again = await o.asAdmin('POST', `${o.base}/seats.csv`, csv, { 'content-type': 'text/csv' });
    expect(again.body).toMatchObject({ unchanged: 2, assigned: 0, failed: 0 });
    const more = await o.asAdmin(
      'POST',
      `${o.base}/seats.csv`,
      'email,status\nAMY@example.com,deactivated\nnew@example.com,active\n',
      {
        'content-type': 'text/csv',
      },
    );
    expect(more.body).toMatchObject({ deactivated: 1, assigned: 1, failed: 0 });
  });

  it('re-seals seat emails and SCIM records on a tenant key rotation; validation stays VALID, the old key is destroyed', async () => {
    const o = await org();
    const user = t.identity.user('rotated@example.com', { [o.orgId]: 'member' });
    await o.asAdmin('POST', `${o.base}/seats`, { email: 'rotated@example.com' });
    expect((await validate(user.token)).body).toMatchObject({ code: 'VALID' });
    const cred = await o.asAdmin('POST', `/orgs/${o.orgId}/scim/credentials`, { licenseId: o.licenseId });
    const scim = call(t, String(cred.body?.secret));
    const json = { 'content-type': 'application/scim+json' };
    const scimUser = {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'scim.rotated@example.com',
      active: true,
    };
    expect((await scim('POST', '/scim/v2/Users', JSON.stringify(scimUser), json)).status).toBe(201);
    const group = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Rotated' };
    expect((await scim('POST', '/scim/v2/Groups', JSON.stringify(group), json)).status).toBe(201);
    const crypto = t.platform.crypto;
    expect(await crypto.dataKeys.rotate(o.orgId)).toMatchObject({ to: 2 });
    t.clock.advance(crypto.keys.cacheTtlMs + 1_000);
    const pass = await crypto.dataKeys.reencryptTenant(o.orgId);
    expect(pass.resealed).toBe(4); // two seats (the portal's, SCIM's), a SCIM user and a group
    expect(pass.retired).toEqual([1]);
    expect((await validate(user.token)).body).toMatchObject({ valid: true, code: 'VALID' });
    expect((await o.asAdmin('GET', `${o.base}/seats`)).body).toMatchObject([
      { email: 'rotated@example.com', status: 'active' },
      { email: 'scim.rotated@example.com', status: 'active' },
    ]);
    const filter = encodeURIComponent('userName eq "SCIM.Rotated@example.com"');
    expect((await scim('GET', `/scim/v2/Users?filter=${filter}`)).body).toMatchObject({ totalResults: 1 });
    expect((await scim('GET', '/scim/v2/Groups')).body).toMatchObject({
      Resources: [{ displayName: 'Rotated' }],
    });
  });
});
