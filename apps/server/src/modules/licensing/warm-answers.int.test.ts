import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../platform/db/testing.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { call, createLicensingTestApp, type LicensingTestApp } from './testing.ts';

describeEachDialect('warm validation answers', (h) => {
  let t: LicensingTestApp;
  let n = 0;

  async function seated() {
    const orgId = `warm-org-${++n}`;
    const operator = call(t, t.identity.user(`warm-vendor${n}@canopy.test`, {}, true).token);
    const admin = t.identity.user(`warm-admin${n}@example.com`, { [orgId]: 'admin' });
    const licenseId = String(
      (await operator('POST', '/admin/licenses', { orgId, products: ['desktop-mac'], seats: 3 })).body?.id,
    );
    const email = `warm${n}@example.com`;
    await call(t, admin.token)('POST', `/orgs/${orgId}/licenses/${licenseId}/seats`, { email });
    const user = t.identity.user(email);
    const validate = async () =>
      (await call(t, user.token)('POST', '/licenses/validate', { product: 'desktop-mac', fingerprint: 'm' }))
        .body;
    return { orgId, licenseId, validate };
  }

  beforeAll(async () => {
    t = await createLicensingTestApp(h.url);
  });
  afterAll(() => t.close());

  it('sees another node’s suspension within the caller TTL (5 s) even if the bus message is lost', async () => {
    const { orgId, licenseId, validate } = await seated();
    expect(await validate()).toMatchObject({ code: 'VALID' });
    // Written by another node: this node's caches are not told.
    await withTenant(t.platform.database, orgId, (scope) =>
      scope.trx.updateTable('licenses').set({ status: 'suspended' }).where('id', '=', licenseId).execute(),
    );
    t.clock.advance(4_000);
    expect(await validate()).toMatchObject({ code: 'VALID' });
    t.clock.advance(1_001);
    expect(await validate()).toMatchObject({ code: 'SUSPENDED' });
  });

  it('still beats the machine’s heartbeat once half an interval has passed', async () => {
    const { orgId, licenseId, validate } = await seated();
    expect(await validate()).toMatchObject({ code: 'VALID' });
    const beat = async () =>
      Number(
        (
          await withTenant(t.platform.database, orgId, (scope) =>
            scope.trx
              .selectFrom('license_devices')
              .select('last_heartbeat_at')
              .where('license_id', '=', licenseId)
              .executeTakeFirstOrThrow(),
          )
        ).last_heartbeat_at,
      );
    const before = await beat();
    // The standard policy beats hourly: no write within half an hour, then the beat is written.
    t.clock.advance(29 * 60_000);
    expect(await validate()).toMatchObject({ code: 'VALID' });
    expect(await beat()).toBe(before);
    t.clock.advance(2 * 60_000);
    expect(await validate()).toMatchObject({ code: 'VALID' });
    expect(await beat()).toBe(before + 31 * 60_000);
  });
});
