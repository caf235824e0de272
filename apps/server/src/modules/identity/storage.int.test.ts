/**
 * What is stored: the SQLite database file (and its write-ahead log) holds no plaintext email, name, password,
 * SRP verifier, TOTP secret, token, recovery code or client IP, in text or in raw bytes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { srpClientFinish, srpClientStart } from '@canopy/sdk';
import { Secret } from 'otpauth';
import { ManualClock } from '../../platform/clock.ts';
import { createTestApp, type TestApp } from '../../test/harness.ts';
import { identityService, totpCode } from './index.ts';
import { bearer, createMailbox, http, tokenFrom, type Http, type Mailbox } from './testing.ts';

describe('stored data (SQLite file scan)', () => {
  const clock = new ManualClock(Date.now());
  let t: TestApp;
  let api: Http;
  let mail: Mailbox;
  const needles = new Map<string, Buffer[]>();
  /** Stored in the clear on purpose (the salt is public): proves the scan reads what is there. */
  let control = '';
  const add = (what: string, ...forms: (string | Buffer)[]) =>
    needles.set(what, [
      ...(needles.get(what) ?? []),
      ...forms.map((f) => (typeof f === 'string' ? Buffer.from(f, 'utf8') : f)),
    ]);

  const email = 'Zelda.Quartermaine@Example.org';
  const password = 'xyzzy plugh frobozz';
  const ip = '203.0.113.77';

  beforeAll(async () => {
    mail = await createMailbox();
    t = await createTestApp({ clock, env: mail.env });
    mail.attach(t.platform);
    api = http(t.app);

    await api.post('/accounts', { email, password, firstName: 'Zelda', lastName: 'Quartermaine' }, {}, ip);
    const verify = tokenFrom(await mail.take(email.toLowerCase(), /confirm/i));
    await api.post('/accounts/verify', { token: verify }, {}, ip);
    const login = (await api.post('/sessions', { email, password }, {}, ip)).json<{
      token: string;
      csrfToken: string;
    }>();
    const client = await srpClientStart(email.toLowerCase(), password);
    const start = (await api.post('/sessions/srp/start', { email, A: client.A }, {}, ip)).json<{
      challengeId: string;
      salt: string;
      B: string;
    }>();
    const pending = await api.post('/sessions/srp/start', { email, A: client.A }, {}, ip); // left unfinished: its state stays stored
    expect(pending.statusCode).toBe(200);
    const srp = await srpClientFinish(client, start);
    control = start.salt;
    const srpLogin = (
      await api.post('/sessions/srp/finish', { challengeId: start.challengeId, M1: srp.M1 }, {}, ip)
    ).json<{ token: string }>();
    const setup = (await api.post('/me/mfa/totp', undefined, bearer(login.token))).json<{ secret: string }>();
    const codes = (
      await api.post(
        '/me/mfa/totp/confirm',
        { code: totpCode(setup.secret, clock.now().getTime()) },
        bearer(login.token),
      )
    ).json<{ recoveryCodes: string[] }>();
    await api.post('/password/forgot', { email }, {}, ip);
    const reset = tokenFrom(await mail.take(email.toLowerCase(), /reset your canopy password/i));
    const org = (await api.post('/orgs', { name: 'Quartermaine Holdings' }, bearer(login.token))).json<{
      id: string;
    }>();
    await api.post(
      `/orgs/${org.id}/invitations`,
      { email: 'Invitee.Person@example.net', role: 'member' },
      bearer(login.token),
    );
    const invitation = tokenFrom(await mail.take('invitee.person@example.net', /invited/i));

    const identity = identityService(t.platform);
    const row = await identity.accounts.byEmail(email);
    const verifier = await identity.accounts.openColumn(
      row!,
      'srp_verifier_sealed',
      row!.srp_verifier_sealed!,
    );

    add('email', email, email.toLowerCase(), 'zelda.quartermaine', 'invitee.person');
    add('name', 'Zelda', 'Quartermaine', 'Quartermaine Holdings');
    add('password', password);
    add('verifier', verifier, Buffer.from(verifier, 'hex').subarray(0, 64));
    add('TOTP secret', setup.secret, Buffer.from(Secret.fromBase32(setup.secret).bytes));
    for (const token of [
      login.token,
      srpLogin.token,
      verify,
      reset,
      invitation.split('.')[1] ?? invitation,
      login.csrfToken,
    ]) {
      add('token', token, Buffer.from(token, 'base64url'));
    }
    for (const c of codes.recoveryCodes) add('recovery code', c, c.replace('-', ''));
    add('client IP', ip);
  });
  afterAll(async () => {
    await t.close();
    await mail.close();
  });

  it('finds none of them in the database file or its write-ahead log', () => {
    const file = t.config.databaseUrl.slice('sqlite:'.length);
    const files = [file, `${file}-wal`, join(t.config.dataDir, 'canopy.sqlite-journal')].filter(existsSync);
    expect(files.length).toBeGreaterThanOrEqual(1);
    const found: string[] = [];
    let bytes = 0;
    for (const f of files) {
      const content = readFileSync(f);
      bytes += content.length;
      for (const [what, forms] of needles) {
        for (const form of forms)
          if (content.includes(form)) found.push(`${what} (${form.toString('utf8').slice(0, 20)}…) in ${f}`);
        // Lower-cased text too: an email stored in another case would still be the email.
        for (const form of forms)
          if (
            content.toString('latin1').toLowerCase().includes(form.toString('latin1').toLowerCase()) &&
            form.length > 4 &&
            what !== 'verifier' &&
            what !== 'TOTP secret' &&
            what !== 'token'
          ) {
            if (!found.some((x) => x.startsWith(what))) found.push(`${what} (any case) in ${f}`);
          }
      }
    }
    expect(bytes).toBeGreaterThan(10_000);
    expect(files.some((f) => readFileSync(f).includes(Buffer.from(control, 'utf8')))).toBe(true);
    expect(found).toEqual([]);
  });
});
