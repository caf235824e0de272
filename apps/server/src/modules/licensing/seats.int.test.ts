import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../platform/db/testing.ts';
import { call, createLicensingTestApp, type LicensingTestApp } from './testing.ts';

describeEachDialect('the portal: seats, CSV and mails', (h) => {
  let t: LicensingTestApp;
  let operator: ReturnType<typeof call>;
  let n = 0;

  async function org(seats = 2) {
    const orgId = `porg-${++n}`;
    const admin = t.identity.user(`padmin${n}@example.com`, { [orgId]: 'admin' });
    const res = await operator('POST', '/admin/licenses', {
      orgId,
      products: ['desktop-mac', 'teams'],
      seats,
    });
    expect(res.status).toBe(201);
    expect(String(res.body?.key)).toMatch(/^CNPY(-[0-9A-Z]{5}){4}$/);
    return {
      orgId,
      licenseId: String(res.body?.id),
      admin,
      asAdmin: call(t, admin.token),
      base: `/orgs/${orgId}/licenses/${String(res.body?.id)}`,
    };
  }
  const mailsTo = (to: string) => t.mails.filter((m) => m.to === to).map((m) => m.template);
  const licence = async (o: Awaited<ReturnType<typeof org>>) =>
    ((await o.asAdmin('GET', `/orgs/${o.orgId}/licenses`)).body as unknown as Record<string, unknown>[]).find(
      (l) => l.id === o.licenseId,
    );

  beforeAll(async () => {
    t = await createLicensingTestApp(h.url);
    operator = call(t, t.identity.user('ops@canopy.test', {}, true).token);
  });
  afterAll(() => t.close());

  it('lists the org’s licences with used and available seats, and refuses a seat past the count (409 seat_limit_reached, admins told)', async () => {
    const o = await org(2);
    expect(await licence(o)).toMatchObject({
      seats: 2,
      usedSeats: 0,
      availableSeats: 2,
      status: 'active',
      products: ['desktop-mac', 'teams'],
    });
    for (const email of ['a@example.com', 'B@Example.com']) {
      expect((await o.asAdmin('POST', `${o.base}/seats`, { email })).status).toBe(201);
    }
    expect(await licence(o)).toMatchObject({ usedSeats: 2, availableSeats: 0 });
    expect((await o.asAdmin('POST', `${o.base}/seats`, { email: 'a@example.com' })).body).toMatchObject({
      code: 'seat_exists',
    });
    const refused = await o.asAdmin('POST', `${o.base}/seats`, { email: 'c@example.com' });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'seat_limit_reached' });
    expect(mailsTo(o.admin.caller.email)).toContain('seat_limit_reached');
    expect(mailsTo('a@example.com')).toEqual(['license_granted']);
    expect(mailsTo('b@example.com')).toEqual(['license_granted']);
    expect(mailsTo('c@example.com')).toEqual([]);
  });

  it('remove frees the seat; deactivate blocks the user and keeps it; reactivate unblocks', async () => {
    const o = await org(1);
    await o.asAdmin('POST', `${o.base}/seats`, { email: 'dee@example.com' });
    const dee = t.identity.user('dee@example.com');
    const validate = () =>
      call(t, dee.token)('POST', '/licenses/validate', { product: 'teams', fingerprint: 'x' });
    expect((await validate()).body).toMatchObject({ code: 'VALID' });

    const deactivated = await o.asAdmin('POST', `${o.base}/seats/dee@example.com/deactivate`);
    expect(deactivated.body).toMatchObject({ email: 'dee@example.com', status: 'deactivated' });
    expect(await licence(o)).toMatchObject({ usedSeats: 1, availableSeats: 0 });
    expect((await validate()).body).toMatchObject({ code: 'SEAT_DEACTIVATED' });
    expect((await o.asAdmin('POST', `${o.base}/seats`, { email: 'other@example.com' })).body).toMatchObject({
      code: 'seat_limit_reached',
    });
    expect(mailsTo('dee@example.com')).toEqual(['license_granted', 'license_revoked']);

    expect((await o.asAdmin('POST', `${o.base}/seats/dee@example.com/reactivate`)).body).toMatchObject({
      status: 'active',
    });
    expect((await validate()).body).toMatchObject({ code: 'VALID' });

    expect((await o.asAdmin('DELETE', `${o.base}/seats/dee@example.com`)).status).toBe(204);
    expect(await licence(o)).toMatchObject({ usedSeats: 0, availableSeats: 1 });
    expect((await validate()).body).toMatchObject({ code: 'NOT_FOUND' });
    expect(mailsTo('dee@example.com')).toEqual([
      'license_granted',
      'license_revoked',
      'license_granted',
      'license_revoked',
    ]);
    expect((await o.asAdmin('POST', `${o.base}/seats`, { email: 'other@example.com' })).status).toBe(201);
    expect((await o.asAdmin('DELETE', `${o.base}/seats/nobody@example.com`)).status).toBe(404);
  });

  it('CSV: exports, imports into another licence with a per-row report, and exports the same seats back', async () => {
    const a = await org(5);
    for (const email of ['one@example.com', 'two@example.com', 'three@example.com'])
      await a.asAdmin('POST', `${a.base}/seats`, { email });
    await a.asAdmin('POST', `${a.base}/seats/two@example.com/deactivate`);
    const exported = await a.asAdmin('GET', `${a.base}/seats.csv`);
    expect(exported.status).toBe(200);
    expect(exported.headers['content-type']).toContain('text/csv');
    const lines = exported.text.trim().split('\r\n');
    expect(lines[0]).toBe('email,status,assigned_at');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 2).join(','))).toEqual([
      'one@example.com,active',
      'three@example.com,active',
      'two@example.com,deactivated',
    ]);

    // The same admin's org gets a second licence; the export is imported into it.
    const second = await operator('POST', '/admin/licenses', {
      orgId: a.orgId,
      products: ['mobile'],
      seats: 3,
    });
    const b = `/orgs/${a.orgId}/licenses/${String(second.body?.id)}`;
    const imported = await a.asAdmin('POST', `${b}/seats.csv`, exported.text, { 'content-type': 'text/csv' });
    expect(imported.status).toBe(200);
    expect(imported.body).toMatchObject({ assigned: 2, deactivated: 1, failed: 0 });
    const back = await a.asAdmin('GET', `${b}/seats.csv`);
    const rows = (text: string) =>
      text
        .trim()
        .split('\r\n')
        .map((l) => l.split(',').slice(0, 2).join(','));
    expect(rows(back.text)).toEqual(rows(exported.text));

    // Importing again changes nothing; bad rows are reported one by one, and the seat count is enforced.
    const again = await a.asAdmin('POST', `${b}/seats.csv`, exported.text, { 'content-type': 'text/csv' });
    expect(again.body).toMatchObject({ unchanged: 3, failed: 0 });
    const messy = [
      'email,status',
      'not-an-email,active',
      'four@example.com,maybe',
      'four@example.com',
      'FOUR@example.com',
      '"five@example.com",active',
      '',
    ].join('\n');
    const report = await a.asAdmin('POST', `${b}/seats.csv`, messy, { 'content-type': 'text/csv' });
    expect(report.body).toMatchObject({ assigned: 0, failed: 5 });
    const byLine = (report.body?.rows as { line: number; outcome: string; code?: string }[]).map((r) => [
      r.line,
      r.outcome,
      r.code,
    ]);
    expect(byLine).toEqual([
      [2, 'failed', 'invalid_email'],
      [3, 'failed', 'invalid_status'],
      [4, 'failed', 'seat_limit_reached'],
      [5, 'failed', 'duplicate'],
      [6, 'failed', 'seat_limit_reached'],
    ]);
  });

  it('keeps org admins inside their own org: 404 for another org, 403 for a plain member', async () => {
    const a = await org();
    const b = await org();
    const otherAdmin = call(t, b.admin.token);
    expect((await otherAdmin('GET', `/orgs/${a.orgId}/licenses`)).status).toBe(404);
    expect((await otherAdmin('POST', `${a.base}/seats`, { email: 'x@example.com' })).status).toBe(404);
    // B's admin naming A's licence under B's own org: that licence does not exist there.
    expect((await otherAdmin('GET', `/orgs/${b.orgId}/licenses/${a.licenseId}/seats`)).status).toBe(404);
    expect(
      (await otherAdmin('POST', `/orgs/${b.orgId}/licenses/${a.licenseId}/seats`, { email: 'x@example.com' }))
        .status,
    ).toBe(404);
    const member = call(
      t,
      t.identity.user(`member-of-${a.orgId}@example.com`, { [a.orgId]: 'member' }).token,
    );
    const forbidden = await member('GET', `/orgs/${a.orgId}/licenses`);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ code: 'forbidden' });
    expect((await call(t, undefined)('GET', `/orgs/${a.orgId}/licenses`)).status).toBe(401);
  });

  it('tells a user about their own seats only, and only once their email is verified', async () => {
    const a = await org();
    const b = await org();
    await a.asAdmin('POST', `${a.base}/seats`, { email: 'mine@example.com' });
    await b.asAdmin('POST', `${b.base}/seats`, { email: 'theirs@example.com' });
    const me = t.identity.user('mine@example.com');
    const mine = (await call(t, me.token)('GET', '/licenses/mine')).body as unknown as {
      licenseId: string;
    }[];
    expect(mine.map((s) => s.licenseId)).toEqual([a.licenseId]);
    const impostor = t.identity.user('mine@example.com', {}, false, false);
    expect((await call(t, impostor.token)('GET', '/licenses/mine')).body).toEqual([]);
    expect(
      (await call(t, impostor.token)('POST', '/licenses/validate', { product: 'teams', fingerprint: 'f' }))
        .body,
    ).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('lets only the operator issue licences, with known products', async () => {
    const user = call(t, t.identity.user('notops@example.com').token);
    expect(
      (await user('POST', '/admin/licenses', { orgId: 'x', products: ['teams'], seats: 1 })).status,
    ).toBe(403);
    const bad = await operator('POST', '/admin/licenses', {
      orgId: 'x',
      products: ['teams', 'holodeck'],
      seats: 1,
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'unknown_product' });
    expect(
      (
        await operator('POST', '/admin/licenses', {
          orgId: 'x',
          products: ['teams'],
          seats: 1,
          policy: 'nope',
        })
      ).body,
    ).toMatchObject({ code: 'unknown_policy' });
    const listed = (await operator('GET', '/admin/licenses')).body as unknown as unknown[];
    expect(listed.length).toBeGreaterThan(0);
  });
});
