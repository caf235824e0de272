/**
 * Seat emails, machine fingerprints and names, and SCIM records at rest: sealed with the org's data key, found by
 * blind indexes (personal-data.ts, scim-repo.ts). Lookups by
 * email still answer as before (validation, the portal, CSV), the rows hold no email, and a tenant key rotation
 * re-seals them (the old key is destroyed, and everything still reads).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { withTenant } from '../../platform/db/tenant.ts';
import { describeEachDialect } from '../../platform/db/testing.ts';
import { licensingService } from './index.ts';
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
      machines: await trx.selectFrom('license_devices').selectAll().where('tenant_id', '=', orgId).execute(),
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

  it('stores no machine fingerprint or name: sealed, found by the org-keyed index, opened for their owner', async () => {
    const o = await org();
    const user = t.identity.user('grace.machines@example.org', { [o.orgId]: 'member' });
    await o.asAdmin('POST', `${o.base}/seats`, { email: 'grace.machines@example.org' });
    const me = call(t, user.token);
    const fingerprint = 'SERIAL-C02XL0GZJGH5';
    const activated = await me('POST', '/licenses/activations', {
      product: 'desktop-mac',
      fingerprint,
      name: 'Grace’s MacBook',
    });
    expect(activated.status).toBe(201);
    expect(activated.body).toMatchObject({ fingerprint, name: 'Grace’s MacBook', licenseId: o.licenseId });
    // The same fingerprint finds the same activation; another one is a second machine.
    const again = await me('POST', '/licenses/validate', { product: 'desktop-mac', fingerprint });
    expect(again.body).toMatchObject({ code: 'VALID', license: { activationId: activated.body?.id } });
    const other = await me('POST', '/licenses/validate', {
      product: 'desktop-mac',
      fingerprint: 'SERIAL-OTHER',
    });
    expect(other.body).toMatchObject({ code: 'VALID' });
    expect((other.body?.license as { activationId?: string }).activationId).not.toBe(activated.body?.id);

    const { machines } = await storedRows(o.orgId);
    expect(machines).toHaveLength(2);
    const text = JSON.stringify(machines, (_k, v: unknown) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
    ).toLowerCase();
    for (const needle of ['serial-', 'macbook', 'grace']) expect(text).not.toContain(needle);
    // The index is the org's: the same fingerprint indexes differently in another org.
    const row = machines.find((m) => m.id === activated.body?.id);
    if (!row) throw new Error('the activated machine is not stored');
    const people = licensingService(t.deps)?.ctx.people;
    if (!people) throw new Error('licensing is not running');
    expect(row.fingerprint_index).toBe(await people.fingerprintIndex(o.orgId, fingerprint));
    expect(row.fingerprint_index).not.toBe(await people.fingerprintIndex('another-org', fingerprint));
    // The sealed fingerprint is bound to its row.
    const ref = { table: 'license_devices', column: 'fingerprint_sealed' };
    await expect(
      t.platform.crypto.cipher.openText(o.orgId, { ...ref, id: 'other' }, row.fingerprint_sealed),
    ).rejects.toThrow();
    const beat = await me('POST', `/licenses/activations/${String(activated.body?.id)}/heartbeat`);
    expect(beat.body).toMatchObject({ fingerprint, name: 'Grace’s MacBook' });
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
    // Two seats (the portal's, SCIM's), the validated machine's fingerprint, a SCIM user and a group.
    expect(pass.resealed).toBe(5);
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
