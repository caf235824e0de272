import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../platform/clock.ts';
import { describeEachDialect } from '../../platform/db/testing.ts';
import { createTestApp, type TestApp } from '../../test/harness.ts';
import { EXPIRED_PURGE_JOB } from './index.ts';
import { bearer, http, type Http } from './testing.ts';

const MINUTE = 60_000;
const password = 'sessions are opaque';

async function account(api: Http, email: string, ip = '192.0.2.10') {
  expect(
    (await api.post('/accounts', { email, password, firstName: 'Sam', lastName: 'Session' }, {}, ip))
      .statusCode,
  ).toBe(201);
}

describeEachDialect('sessions: cookies, CSRF, timeouts, revocation', (h) => {
  const clock = new ManualClock(Date.UTC(2026, 4, 1));
  let t: TestApp;
  let api: Http;

  beforeAll(async () => {
    t = await createTestApp({ databaseUrl: h.url, clock, env: { CANOPY_TRUSTED_PROXIES: '127.0.0.1' } });
    api = http(t.app);
    await account(api, 'sam@example.com');
  });
  afterAll(() => t.close());

  it('sets an HttpOnly SameSite=Lax cookie, and on HTTPS a Secure __Host- one', async () => {
    const plain = await api.post('/sessions', { email: 'sam@example.com', password });
    expect(plain.headers['set-cookie']).toMatch(
      /^canopy_session=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=43200$/,
    );
    const https = await api.post(
      '/sessions',
      { email: 'sam@example.com', password },
      { 'x-forwarded-proto': 'https' },
    );
    expect(https.headers['set-cookie']).toMatch(
      /^__Host-canopy_session=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=43200; Secure$/,
    );
    const cookie = String(https.headers['set-cookie']).split(';')[0] ?? '';
    const forwarded = { 'x-forwarded-proto': 'https' };
    expect((await api.get('/me', { cookie, ...forwarded })).statusCode).toBe(200);
    // On HTTPS a plain-named cookie (which another host of the domain could plant) is not read.
    const token = https.json<{ token: string }>().token;
    expect((await api.get('/me', { cookie: `canopy_session=${token}`, ...forwarded })).statusCode).toBe(401);
  });

  it('accepts the cookie, and needs the CSRF header from login on state-changing requests', async () => {
    const login = await api.post('/sessions', { email: 'sam@example.com', password });
    const { csrfToken } = login.json<{ csrfToken: string }>();
    const cookie = String(login.headers['set-cookie']).split(';')[0] ?? '';
    expect((await api.get('/me', { cookie })).statusCode).toBe(200);
    const forged = await api.post('/orgs', { name: 'Forged' }, { cookie });
    expect(forged.statusCode).toBe(403);
    expect(forged.json()).toMatchObject({ code: 'csrf_failed' });
    expect(
      (await api.post('/orgs', { name: 'Forged' }, { cookie, 'x-csrf-token': 'x'.repeat(43) })).statusCode,
    ).toBe(403);
    expect(
      (await api.post('/orgs', { name: 'Real' }, { cookie, 'x-csrf-token': csrfToken })).statusCode,
    ).toBe(201);
    // A bearer token needs no CSRF header: a browser never sends one by itself.
    const { token } = login.json<{ token: string }>();
    expect((await api.post('/orgs', { name: 'App' }, bearer(token))).statusCode).toBe(201);
    const out = await api.del('/sessions/current', { cookie, 'x-csrf-token': csrfToken });
    expect(out.statusCode).toBe(204);
    expect(out.headers['set-cookie']).toMatch(/Max-Age=0/);
    expect((await api.get('/me', { cookie })).statusCode).toBe(401);
  });

  it('ends a session after 30 idle minutes', async () => {
    const { token } = (await api.post('/sessions', { email: 'sam@example.com', password })).json<{
      token: string;
    }>();
    clock.advance(29 * MINUTE);
    expect((await api.get('/me', bearer(token))).statusCode).toBe(200);
    clock.advance(29 * MINUTE);
    expect((await api.get('/me', bearer(token))).statusCode).toBe(200);
    clock.advance(30 * MINUTE + 1);
    expect((await api.get('/me', bearer(token))).statusCode).toBe(401);
  });

  it('ends a session 12 hours after login however active it is', async () => {
    const { token } = (await api.post('/sessions', { email: 'sam@example.com', password })).json<{
      token: string;
    }>();
    for (let i = 0; i < 12 * 3 - 1; i++) {
      clock.advance(20 * MINUTE);
      expect((await api.get('/me', bearer(token))).statusCode).toBe(200);
    }
    clock.advance(20 * MINUTE);
    expect((await api.get('/me', bearer(token))).statusCode).toBe(401);
  });

  it('lists the caller’s sessions and revokes one', async () => {
    const a = (await api.post('/sessions', { email: 'sam@example.com', password })).json<{ token: string }>()
      .token;
    const b = (await api.post('/sessions', { email: 'sam@example.com', password })).json<{ token: string }>()
      .token;
    const list = (await api.get('/sessions', bearer(a))).json<{ id: string; current: boolean }[]>();
    expect(list.length).toBeGreaterThanOrEqual(2);
    const other = list.find((s) => !s.current);
    expect(list.filter((s) => s.current)).toHaveLength(1);
    expect((await api.del(`/sessions/${other?.id ?? ''}`, bearer(a))).statusCode).toBe(204);
    expect((await api.get('/me', bearer(b))).statusCode).toBe(other ? 401 : 200);
    expect((await api.del('/sessions/no-such-session', bearer(a))).statusCode).toBe(404);
  });
});

describeEachDialect('expired rows', (h) => {
  const clock = new ManualClock(Date.UTC(2026, 6, 1));
  let t: TestApp;
  let api: Http;
  beforeAll(async () => {
    t = await createTestApp({ databaseUrl: h.url, clock });
    api = http(t.app);
    await account(api, 'idle@example.com');
  });
  afterAll(() => t.close());

  it('are deleted by the hourly purge: idle sessions, old tokens and abandoned SRP challenges', async () => {
    await api.post('/sessions', { email: 'idle@example.com', password });
    await api.post('/sessions/srp/start', { email: 'idle@example.com', A: 'ab'.repeat(384) });
    const count = async () => ({
      sessions: (await h.database.db.selectFrom('sessions').select('id').execute()).length,
      challenges: (await h.database.db.selectFrom('srp_challenges').select('id').execute()).length,
      tokens: (await h.database.db.selectFrom('account_tokens').select('id').execute()).length,
    });
    const before = await count();
    expect(before.sessions).toBe(1);
    expect(before.challenges).toBe(1);
    clock.advance(3 * 86_400_000); // past the idle timeout, the challenge's 2 minutes and the tokens' expiry + 1 day
    await t.platform.jobs.enqueue(EXPIRED_PURGE_JOB);
    await t.platform.jobs.drain();
    const after = await count();
    expect(after.sessions).toBe(0);
    expect(after.challenges).toBe(0);
    expect(after.tokens).toBeLessThan(before.tokens);
  });
});

describe('anti-automation', () => {
  const clock = new ManualClock(Date.UTC(2026, 4, 1));
  let t: TestApp;
  let api: Http;
  beforeAll(async () => {
    t = await createTestApp({ clock });
    api = http(t.app);
    await account(api, 'victim@example.com');
  });
  afterAll(() => t.close());

  it('limits login attempts per account and IP with 429 and Retry-After, without locking the owner out', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 11; i++)
      codes.push(
        (
          await api.post(
            '/sessions',
            { email: 'victim@example.com', password: `guess number ${i}` },
            {},
            '203.0.113.66',
          )
        ).statusCode,
      );
    expect(codes.slice(0, 10).every((c) => c === 401)).toBe(true);
    const limited = await api.post(
      '/sessions',
      { email: 'victim@example.com', password },
      {},
      '203.0.113.66',
    );
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ code: 'rate_limited' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // SRP start counts against the same budget.
    expect(
      (
        await api.post(
          '/sessions/srp/start',
          { email: 'victim@example.com', A: 'ab'.repeat(384) },
          {},
          '203.0.113.66',
        )
      ).statusCode,
    ).toBe(429);
    // The owner, elsewhere, is not locked out.
    expect(
      (await api.post('/sessions', { email: 'victim@example.com', password }, {}, '192.0.2.99')).statusCode,
    ).toBe(201);
    clock.advance(15 * MINUTE);
    expect(
      (await api.post('/sessions', { email: 'victim@example.com', password }, {}, '203.0.113.66')).statusCode,
    ).toBe(201);
  });

  it('limits guessing spread over many IPs per account, except from places the owner has logged in from', async () => {
    clock.advance(60 * MINUTE);
    const codes: number[] = [];
    for (let i = 0; i < 51; i++) {
      codes.push(
        (
          await api.post(
            '/sessions',
            { email: 'victim@example.com', password: `distributed guess ${i}` },
            {},
            `198.18.0.${i + 1}`,
          )
        ).statusCode,
      );
    }
    expect(codes.slice(0, 50).every((c) => c === 401)).toBe(true);
    expect(codes[50]).toBe(429);
    // The owner, from where they logged in before, gets in.
    expect(
      (await api.post('/sessions', { email: 'victim@example.com', password }, {}, '192.0.2.99')).statusCode,
    ).toBe(201);
    // From a new place, even with the right password, they wait for the window (the price of this limit).
    expect(
      (await api.post('/sessions', { email: 'victim@example.com', password }, {}, '198.18.1.1')).statusCode,
    ).toBe(429);
    clock.advance(60 * MINUTE);
    expect(
      (await api.post('/sessions', { email: 'victim@example.com', password }, {}, '198.18.1.1')).statusCode,
    ).toBe(201);
  });

  it('limits sign-ups and password-reset requests per IP and per email', async () => {
    const signUps: number[] = [];
    for (let i = 0; i < 21; i++) {
      signUps.push(
        (
          await api.post(
            '/accounts',
            { email: `bot${i}@example.com`, password, firstName: 'B', lastName: 'Ot' },
            {},
            '203.0.113.80',
          )
        ).statusCode,
      );
    }
    expect(signUps.slice(0, 20).every((c) => c === 201)).toBe(true);
    expect(signUps[20]).toBe(429);
    const forgot: number[] = [];
    for (let i = 0; i < 6; i++)
      forgot.push(
        (await api.post('/password/forgot', { email: 'victim@example.com' }, {}, `203.0.113.${100 + i}`))
          .statusCode,
      );
    expect(forgot).toEqual([202, 202, 202, 202, 202, 429]);
  });
});
