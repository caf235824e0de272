/**
 * What is stored (SQLite file scan): seat emails assigned through the portal, a CSV import and a validation
 * with a machine, and a SCIM user and group (userName, emails, names, externalId, group name) are found
 * nowhere in the database file or its write-ahead log, in any case.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../platform/db/testing.ts';
import { call, createLicensingTestApp, type LicensingTestApp } from './testing.ts';

describe('stored seat emails (SQLite file scan)', () => {
  let testDb: TestDatabase;
  let t: LicensingTestApp;
  let licenceKey = '';
  const portalEmail = 'Sentinel.Portalperson@Example.net';
  const csvEmail = 'csv.sentinelperson@example.net';
  const scimEmail = 'scim.sentinelperson@example.net';

  beforeAll(async () => {
    testDb = await createTestDatabase('sqlite');
    t = await createLicensingTestApp(testDb.url);
    const operator = call(t, t.identity.user('vendor@canopy.test', {}, true).token);
    const orgId = 'scan-org';
    const issued = await operator('POST', '/admin/licenses', { orgId, products: ['desktop-mac'], seats: 5 });
    licenceKey = String(issued.body?.key);
    const base = `/orgs/${orgId}/licenses/${String(issued.body?.id)}`;
    const admin = call(t, t.identity.user('scan-admin@example.com', { [orgId]: 'admin' }).token);
    expect((await admin('POST', `${base}/seats`, { email: portalEmail })).status).toBe(201);
    const imported = await admin('POST', `${base}/seats.csv`, `email,status\n${csvEmail},deactivated\n`, {
      'content-type': 'text/csv',
    });
    expect(imported.body).toMatchObject({ deactivated: 1 });
    const user = t.identity.user(portalEmail, { [orgId]: 'member' });
    const answer = await call(t, user.token)('POST', '/licenses/validate', {
      product: 'desktop-mac',
      fingerprint: 'scan-machine',
    });
    expect(answer.body).toMatchObject({ code: 'VALID' });

    const cred = await admin('POST', `/orgs/${orgId}/scim/credentials`, {
      licenseId: String(issued.body?.id),
    });
    const scim = call(t, String(cred.body?.secret));
    const json = { 'content-type': 'application/scim+json' };
    const scimUser = {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: scimEmail,
      externalId: 'ext-Sentinelexternal',
      active: true,
      emails: [{ primary: true, type: 'work', value: scimEmail }],
      name: { givenName: 'Quintessa', familyName: 'Scimsurname' },
    };
    expect((await scim('POST', '/scim/v2/Users', JSON.stringify(scimUser), json)).status).toBe(201);
    const group = {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Sentinelgroupname',
    };
    expect((await scim('POST', '/scim/v2/Groups', JSON.stringify(group), json)).status).toBe(201);
    const found = await scim(
      'GET',
      `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${scimEmail}"`)}`,
    );
    expect(found.body).toMatchObject({ totalResults: 1 });
  });
  afterAll(async () => {
    await t.close();
    await testDb.drop();
  });

  it('finds none of them in the database file or its write-ahead log', () => {
    const file = testDb.url.slice('sqlite:'.length);
    const files = [file, `${file}-wal`].filter(existsSync);
    const content = Buffer.concat(files.map((f) => readFileSync(f)));
    expect(content.length).toBeGreaterThan(10_000);
    // The licence key is stored in the clear on purpose: proves the scan reads what is there.
    expect(content.includes(Buffer.from(licenceKey))).toBe(true);
    const text = content.toString('latin1').toLowerCase();
    const needles = [
      'sentinel.portalperson',
      'csv.sentinelperson',
      'scim.sentinelperson',
      'sentinelperson@',
      'quintessa',
      'scimsurname',
      'sentinelexternal',
      'sentinelgroupname',
    ];
    const found = needles.filter((needle) => text.includes(needle));
    expect(found).toEqual([]);
  });
});
