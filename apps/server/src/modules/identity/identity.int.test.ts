import { afterAll, beforeAll, expect, it } from 'vitest';
import { srpClientFinish, srpClientStart, verifyM2 } from '@canopy/sdk';
import { ManualClock } from '../../platform/clock.ts';
import { describeEachDialect } from '../../platform/db/testing.ts';
import { createTestApp, type TestApp } from '../../test/harness.ts';
import { totpCode } from './index.ts';
import { bearer, createMailbox, http, tokenFrom, type Http, type Mailbox } from './testing.ts';

describeEachDialect('identity: sign-up to reset, end to end', (h) => {
  const clock = new ManualClock(Date.now());
  let t: TestApp;
  let api: Http;
  let mail: Mailbox;
  const email = 'Ada.Lovelace@Example.com';
  const lower = email.toLowerCase();
  const password = 'analytical engine 1843';
  let totpSecret = '';
  let verifyToken = '';
  const sessions: string[] = [];

  beforeAll(async () => {
    mail = await createMailbox();
    t = await createTestApp({
      databaseUrl: h.url,
      clock,
      env: { CANOPY_PUBLIC_URL: 'https://canopy.test', ...mail.env },
    });
    mail.attach(t.platform);
    api = http(t.app);
  });
  afterAll(async () => {
    await t.close();
    await mail.close();
  });

  it('signs up, creating a personal org, and mails a verification link', async () => {
    const res = await api.post('/accounts', { email, password, firstName: 'Ada', lastName: 'Lovelace' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      id: expect.any(String),
      email: lower,
      firstName: 'Ada',
      lastName: 'Lovelace',
      emailVerified: false,
    });
    const m = await mail.take(lower, /confirm your email/i);
    expect(mail.viaSmtp).toBe(process.env.CANOPY_TEST_SMTP === '1');
    expect(m.text).toContain('https://canopy.test/verify-email?token=');
    verifyToken = tokenFrom(m);
  });

  it('verifies the email once with the token from the mail', async () => {
    const res = await api.post('/accounts/verify', { token: verifyToken });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ email: lower, emailVerified: true });
    const again = await api.post('/accounts/verify', { token: verifyToken });
    expect(again.statusCode).toBe(400);
    expect(again.json()).toMatchObject({ code: 'invalid_token' });
  });

  it('logs in with the password and shows the account, its org and role', async () => {
    const res = await api.post('/sessions', { email: 'ADA.lovelace@example.com', password });
    expect(res.statusCode).toBe(201);
    const body = res.json<{
      token: string;
      expiresAt: string;
      account: { email: string };
      csrfToken: string;
    }>();
    expect(body.account.email).toBe(lower);
    expect(body.token.length).toBeGreaterThanOrEqual(43);
    sessions.push(body.token);
    const me = await api.get('/me', bearer(body.token));
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({
      email: lower,
      emailVerified: true,
      mfaEnabled: false,
      orgs: [{ personal: true, role: 'admin', name: 'Ada Lovelace' }],
    });
  });

  it('refuses a wrong password with invalid_credentials', async () => {
    const res = await api.post('/sessions', { email, password: 'not the password' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'invalid_credentials' });
  });

  it('logs in with SRP-6a, and the server proves it knows the verifier', async () => {
    const client = await srpClientStart(lower, password);
    const start = await api.post('/sessions/srp/start', { email, A: client.A });
    expect(start.statusCode).toBe(200);
    const { challengeId, salt, B } = start.json<{ challengeId: string; salt: string; B: string }>();
    const session = await srpClientFinish(client, { salt, B });
    const finish = await api.post('/sessions/srp/finish', { challengeId, M1: session.M1 });
    expect(finish.statusCode).toBe(201);
    const body = finish.json<{ token: string; M2: string }>();
    expect(verifyM2(session, body.M2)).toBe(true);
    sessions.push(body.token);
    // A challenge is single use.
    const again = await api.post('/sessions/srp/finish', { challengeId, M1: session.M1 });
    expect(again.statusCode).toBe(401);
    // And short-lived: two minutes.
    const late = await srpClientStart(lower, password);
    const lateStart = (await api.post('/sessions/srp/start', { email, A: late.A })).json<{
      challengeId: string;
      salt: string;
      B: string;
    }>();
    const lateSession = await srpClientFinish(late, lateStart);
    clock.advance(2 * 60_000 + 1);
    const expired = await api.post('/sessions/srp/finish', {
      challengeId: lateStart.challengeId,
      M1: lateSession.M1,
    });
    expect(expired.json()).toMatchObject({ status: 401, code: 'invalid_credentials' });
  });

  it('turns MFA on right after login, with recovery codes', async () => {
    const token = sessions[0] ?? '';
    const setup = await api.post('/me/mfa/totp', undefined, bearer(token));
    expect(setup.statusCode).toBe(200);
    const { secret, otpauthUrl } = setup.json<{ secret: string; otpauthUrl: string }>();
    expect(otpauthUrl).toMatch(/^otpauth:\/\/totp\/Canopy:/);
    totpSecret = secret;
    const wrong = await api.post('/me/mfa/totp/confirm', { code: '000000' }, bearer(token));
    expect(wrong.statusCode).toBe(401);
    const ok = await api.post(
      '/me/mfa/totp/confirm',
      { code: totpCode(secret, clock.now().getTime()) },
      bearer(token),
    );
    expect(ok.statusCode).toBe(200);
    expect(ok.json<{ recoveryCodes: string[] }>().recoveryCodes).toHaveLength(10);
  });

  it('then needs the code to log in, by password and by SRP', async () => {
    const none = await api.post('/sessions', { email, password });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ code: 'mfa_required' });
    const bad = await api.post('/sessions', { email, password, totp: '123456' });
    expect(bad.json()).toMatchObject({ code: 'invalid_totp' });
    clock.advance(30_000); // the code used to confirm is spent; take the next time step
    const good = await api.post('/sessions', {
      email,
      password,
      totp: totpCode(totpSecret, clock.now().getTime()),
    });
    expect(good.statusCode).toBe(201);
    sessions.push(good.json<{ token: string }>().token);
    // The same code again (a replay) is refused.
    const replay = await api.post('/sessions', {
      email,
      password,
      totp: totpCode(totpSecret, clock.now().getTime()),
    });
    expect(replay.json()).toMatchObject({ code: 'invalid_totp' });

    clock.advance(30_000);
    const client = await srpClientStart(lower, password);
    const start = (await api.post('/sessions/srp/start', { email, A: client.A })).json<{
      challengeId: string;
      salt: string;
      B: string;
    }>();
    const s = await srpClientFinish(client, start);
    const finish = await api.post('/sessions/srp/finish', {
      challengeId: start.challengeId,
      M1: s.M1,
      totp: totpCode(totpSecret, clock.now().getTime()),
    });
    expect(finish.statusCode).toBe(201);
    sessions.push(finish.json<{ token: string }>().token);
  });

  it('resets the password from the mailed link, and every old session is dead', async () => {
    for (const token of sessions) expect((await api.get('/me', bearer(token))).statusCode).toBe(200);
    const forgot = await api.post('/password/forgot', { email });
    expect(forgot.statusCode).toBe(202);
    const m = await mail.take(lower, /reset your canopy password/i);
    const token = tokenFrom(m);
    const weak = await api.post('/password/reset', { token, password: 'password123' });
    expect(weak.json()).toMatchObject({ code: 'weak_password' });
    const reset = await api.post('/password/reset', { token, password: 'difference engine 1822' });
    expect(reset.statusCode).toBe(200);
    for (const old of sessions) {
      const res = await api.get('/me', bearer(old));
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'unauthenticated' });
    }
    expect(
      (await api.post('/password/reset', { token, password: 'another long password' })).json(),
    ).toMatchObject({ code: 'invalid_token' });
    expect((await api.post('/sessions', { email, password, totp: '000000' })).json()).toMatchObject({
      code: 'invalid_credentials',
    });
    clock.advance(30_000);
    // From another address: this one has used its 10 login attempts for the quarter hour.
    const login = await api.post(
      '/sessions',
      { email, password: 'difference engine 1822', totp: totpCode(totpSecret, clock.now().getTime()) },
      {},
      '192.0.2.44',
    );
    expect(login.statusCode).toBe(201);
  });
});
