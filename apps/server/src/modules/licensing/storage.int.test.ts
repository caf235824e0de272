/**
 * What is stored (SQLite file scan): a seat email assigned through the portal, a CSV import and a validation
 * with a machine is found nowhere in the database file or its write-ahead log, in any case.
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
  });
  afterAll(async () => {
    await t.close();
    await testDb.drop();
  });

  it('finds neither email in the database file or its write-ahead log', () => {
    const file = testDb.url.slice('sqlite:'.length);
    const files = [file, `${file}-wal`].filter(existsSync);
    const content = Buffer.concat(files.map((f) => readFileSync(f)));
    expect(content.length).toBeGreaterThan(10_000);
    // The licence key is stored in the clear on purpose: proves the scan reads what is there.
    expect(content.includes(Buffer.from(licenceKey))).toBe(true);
    const text = content.toString('latin1').toLowerCase();
    const found = ['sentinel.portalperson', 'csv.sentinelperson', 'portalperson@', 'sentinelperson@'].filter(
      (needle) => text.includes(needle),
    );
    expect(found).toEqual([]);
  });
});
