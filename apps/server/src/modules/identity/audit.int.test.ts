import { afterAll, beforeAll, expect, it } from 'vitest';
import { ManualClock } from '../../platform/clock.ts';
import { withSystemContext } from '../../platform/db/tenant.ts';
import { describeEachDialect } from '../../platform/db/testing.ts';
import { createTestApp, type TestApp } from '../../test/harness.ts';
import { AUDIT_IP_PURGE_JOB, identityService } from './index.ts';
import { bearer, http, type Http } from './testing.ts';

const DAY = 86_400_000;

describeEachDialect('audit log and the 30-day IP purge', (h) => {
  const t0 = Date.UTC(2026, 2, 1, 12);
  const clock = new ManualClock(t0);
  let t: TestApp;
  let api: Http;
  let token = '';
  let org = '';

  beforeAll(async () => {
    t = await createTestApp({ databaseUrl: h.url, clock });
    api = http(t.app);
    await api.post(
      '/accounts',
      {
        email: 'auditor@example.com',
        password: 'counting every event',
        firstName: 'Audrey',
        lastName: 'Tor',
      },
      {},
      '198.51.100.5',
    );
    await api.post(
      '/sessions',
      { email: 'auditor@example.com', password: 'wrong password!' },
      {},
      '198.51.100.6',
    );
    token = (
      await api.post(
        '/sessions',
        { email: 'auditor@example.com', password: 'counting every event' },
        {},
        '198.51.100.5',
      )
    ).json<{ token: string }>().token;
    org = (await api.get('/me', bearer(token))).json<{ orgs: { id: string }[] }>().orgs[0]?.id ?? '';
  });
  afterAll(() => t.close());

  const events = async () => {
    const res = await api.get(`/orgs/${org}/audit`, bearer(token));
    expect(res.statusCode).toBe(200);
    return res.json<{ action: string; ip: string | null; at: string; actorId: string | null }[]>();
  };
  const storedIps = () =>
    withSystemContext(h.database, 'test', (trx) =>
      trx.selectFrom('audit_events').select(['action', 'ip_sealed']).where('tenant_id', '=', org).execute(),
    );
  const purge = async () => {
    await t.platform.jobs.enqueue(AUDIT_IP_PURGE_JOB);
    await t.platform.jobs.drain();
  };

  it('records who did what, when and from where', async () => {
    const list = await events();
    expect(list.map((e) => e.action).sort()).toEqual(['account.created', 'login.failed', 'login.succeeded']);
    expect(list.find((e) => e.action === 'login.failed')).toMatchObject({
      ip: '198.51.100.6',
      at: new Date(t0).toISOString(),
    });
    expect(list.find((e) => e.action === 'login.succeeded')?.ip).toBe('198.51.100.5');
  });

  it('keeps the IP for 30 days minus 1 ms', async () => {
    clock.set(new Date(t0 + 30 * DAY - 1));
    // Sessions would have expired by now: read through a fresh login (its own event is newer and keeps its IP).
    token = (
      await api.post(
        '/sessions',
        { email: 'auditor@example.com', password: 'counting every event' },
        {},
        '198.51.100.7',
      )
    ).json<{ token: string }>().token;
    await purge();
    expect((await storedIps()).every((r) => r.ip_sealed !== null)).toBe(true);
    const list = await events();
    expect(list.find((e) => e.action === 'login.failed')?.ip).toBe('198.51.100.6');
  });

  it('removes it 30 days plus 1 ms after the event, and keeps the row', async () => {
    clock.set(new Date(t0 + 30 * DAY + 1));
    // Hidden on read before the job has run...
    expect((await events()).find((e) => e.action === 'login.failed')).toMatchObject({
      ip: null,
      action: 'login.failed',
    });
    await purge();
    // ...and gone from the table after it.
    const rows = await storedIps();
    expect(
      rows
        .filter((r) => r.ip_sealed === null)
        .map((r) => r.action)
        .sort(),
    ).toEqual(['account.created', 'login.failed', 'login.succeeded']);
    expect(rows.filter((r) => r.ip_sealed !== null).map((r) => r.action)).toEqual(['login.succeeded']);
    const list = await events();
    expect(list).toHaveLength(4);
    expect(list.find((e) => e.ip !== null)?.ip).toBe('198.51.100.7');
  });

  it('is readable only by org admins', async () => {
    void identityService(t.platform);
    const other = await api.post(
      '/accounts',
      { email: 'nosy@example.com', password: 'nosy parker password', firstName: 'N', lastName: 'P' },
      {},
      '198.51.100.9',
    );
    expect(other.statusCode).toBe(201);
    const nosy = (
      await api.post(
        '/sessions',
        { email: 'nosy@example.com', password: 'nosy parker password' },
        {},
        '198.51.100.9',
      )
    ).json<{ token: string }>().token;
    expect((await api.get(`/orgs/${org}/audit`, bearer(nosy))).statusCode).toBe(404);
  });
});
