import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../platform/clock.ts';
import { withSystemContext } from '../../platform/db/tenant.ts';
import { describeEachDialect } from '../../platform/db/testing.ts';
import { createTestApp, type TestApp } from '../../test/harness.ts';
import { identityService, totpCode } from './index.ts';
import { bearer, createMailbox, http, tokenFrom, type Http, type Mailbox } from './testing.ts';

const MINUTE = 60_000;

async function join(api: Http, email: string, password: string, first = 'Pat') {
  expect(
    (
      await api.post(
        '/accounts',
        { email, password, firstName: first, lastName: 'Person' },
        {},
        `192.0.2.${email.length}`,
      )
    ).statusCode,
  ).toBe(201);
  const login = await api.post('/sessions', { email, password });
  expect(login.statusCode).toBe(201);
  return login.json<{ token: string; account: { id: string } }>();
}

describeEachDialect('account: re-authentication, export and deletion', (h) => {
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  let t: TestApp;
  let api: Http;

  beforeAll(async () => {
    t = await createTestApp({ databaseUrl: h.url, clock });
    api = http(t.app);
  });
  afterAll(() => t.close());

  it('needs a recent password proof to turn MFA on, change the password or delete the account', async () => {
    const { token } = await join(api, 'careful@example.com', 'measure twice cut once');
    clock.advance(6 * MINUTE);
    for (const res of [
      await api.post('/me/mfa/totp', undefined, bearer(token)),
      await api.post('/me/password', { password: 'a brand new password' }, bearer(token)),
      await api.del('/me', bearer(token)),
    ]) {
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'reauthentication_required' });
    }
    expect(
      (await api.post('/sessions/current/reauth', { password: 'wrong wrong wrong' }, bearer(token))).json(),
    ).toMatchObject({ code: 'invalid_credentials' });
    const ok = await api.post(
      '/sessions/current/reauth',
      { password: 'measure twice cut once' },
      bearer(token),
    );
    expect(ok.statusCode).toBe(200);
    expect((await api.post('/me/mfa/totp', undefined, bearer(token))).statusCode).toBe(200);
  });

  it('changes the password, keeping this session and revoking the others', async () => {
    const first = await join(api, 'changer@example.com', 'the old password!');
    const other = (
      await api.post('/sessions', { email: 'changer@example.com', password: 'the old password!' })
    ).json<{ token: string }>().token;
    expect(
      (await api.post('/me/password', { password: 'qwertyuiop' }, bearer(first.token))).json(),
    ).toMatchObject({ code: 'weak_password' });
    expect(
      (await api.post('/me/password', { password: 'the new password!' }, bearer(first.token))).statusCode,
    ).toBe(200);
    expect((await api.get('/me', bearer(first.token))).statusCode).toBe(200);
    expect((await api.get('/me', bearer(other))).statusCode).toBe(401);
    expect(
      (await api.post('/sessions', { email: 'changer@example.com', password: 'the new password!' }))
        .statusCode,
    ).toBe(201);
  });

  it('exports the account’s data as JSON', async () => {
    const { token, account } = await join(api, 'exporter@example.com', 'give me my data', 'Ex');
    const res = await api.get('/me/export', bearer(token));
    expect(res.statusCode).toBe(200);
    const data = res.json<Record<string, unknown>>();
    expect(data).toMatchObject({
      account: {
        id: account.id,
        email: 'exporter@example.com',
        firstName: 'Ex',
        lastName: 'Person',
        mfaEnabled: false,
      },
      orgs: [{ personal: true, role: 'admin' }],
      sessions: [expect.objectContaining({ method: 'password' })],
    });
    expect((data.auditEvents as { action: string }[]).map((e) => e.action)).toEqual(
      expect.arrayContaining(['account.created', 'login.succeeded']),
    );
  });

  it('deletes the account: it can no longer log in, its orgs are gone and its personal org key is shredded', async () => {
    const { token, account } = await join(api, 'leaver@example.com', 'so long and thanks');
    const me = (await api.get('/me', bearer(token))).json<{ orgs: { id: string }[] }>();
    const personal = me.orgs[0]?.id ?? '';
    const res = await api.del('/me', bearer(token));
    expect(res.statusCode).toBe(204);
    expect((await api.get('/me', bearer(token))).statusCode).toBe(401);
    expect(
      (await api.post('/sessions', { email: 'leaver@example.com', password: 'so long and thanks' })).json(),
    ).toMatchObject({ code: 'invalid_credentials' });
    const left = await withSystemContext(h.database, 'test', async (trx) => ({
      accounts: await trx.selectFrom('accounts').select('id').where('id', '=', account.id).execute(),
      orgs: await trx.selectFrom('orgs').select('tenant_id').where('tenant_id', '=', personal).execute(),
      memberships: await trx
        .selectFrom('memberships')
        .select('tenant_id')
        .where('account_id', '=', account.id)
        .execute(),
      keys: await trx
        .selectFrom('tenant_data_keys')
        .select(['purpose', 'wrapped_key'])
        .where('tenant_id', '=', personal)
        .execute(),
    }));
    expect(left.accounts).toEqual([]);
    expect(left.orgs).toEqual([]);
    expect(left.memberships).toEqual([]);
    expect(left.keys).toEqual([{ purpose: 'shredded', wrapped_key: null }]);
    // The email is free again.
    expect(
      (
        await api.post('/accounts', {
          email: 'leaver@example.com',
          password: 'back again, hello',
          firstName: 'L',
          lastName: 'R',
        })
      ).statusCode,
    ).toBe(201);
  });

  it('turns MFA off after re-authentication with a code', async () => {
    const { token } = await join(api, 'mfa-off@example.com', 'two steps forward');
    const { secret } = (await api.post('/me/mfa/totp', undefined, bearer(token))).json<{ secret: string }>();
    const { recoveryCodes } = (
      await api.post('/me/mfa/totp/confirm', { code: totpCode(secret, clock.now().getTime()) }, bearer(token))
    ).json<{ recoveryCodes: string[] }>();
    // A recovery code logs in once.
    const code = recoveryCodes[0] ?? '';
    expect(
      (
        await api.post('/sessions', {
          email: 'mfa-off@example.com',
          password: 'two steps forward',
          totp: code,
        })
      ).statusCode,
    ).toBe(201);
    expect(
      (
        await api.post('/sessions', {
          email: 'mfa-off@example.com',
          password: 'two steps forward',
          totp: code,
        })
      ).json(),
    ).toMatchObject({ code: 'invalid_totp' });
    clock.advance(10 * MINUTE);
    expect((await api.del('/me/mfa/totp', bearer(token))).statusCode).toBe(401);
    expect(
      (await api.post('/sessions/current/reauth', { password: 'two steps forward' }, bearer(token))).json(),
    ).toMatchObject({ code: 'mfa_required' });
    expect(
      (
        await api.post(
          '/sessions/current/reauth',
          { password: 'two steps forward', totp: totpCode(secret, clock.now().getTime()) },
          bearer(token),
        )
      ).statusCode,
    ).toBe(200);
    expect((await api.del('/me/mfa/totp', bearer(token))).statusCode).toBe(204);
    expect(
      (await api.post('/sessions', { email: 'mfa-off@example.com', password: 'two steps forward' }))
        .statusCode,
    ).toBe(201);
  });
});

describe('email change and the sign-up enumeration switch', () => {
  let t: TestApp;
  let api: Http;
  let mail: Mailbox;
  beforeAll(async () => {
    mail = await createMailbox();
    t = await createTestApp({ env: mail.env });
    mail.attach(t.platform);
    api = http(t.app);
  });
  afterAll(async () => {
    await t.close();
    await mail.close();
  });

  it('changes the email after re-authentication; the new address must be free and confirmed', async () => {
    const { token } = await join(api, 'before@example.com', 'moving house soon');
    await join(api, 'taken@example.com', 'already living here');
    const taken = await api.post('/me/email', { email: 'TAKEN@example.com' }, bearer(token));
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toMatchObject({ code: 'email_taken' });
    const moved = await api.post('/me/email', { email: 'after@example.com' }, bearer(token));
    expect(moved.statusCode).toBe(200);
    expect(moved.json()).toMatchObject({ email: 'after@example.com', emailVerified: false });
    await mail.take('before@example.com', /was changed/);
    const link = tokenFrom(await mail.take('after@example.com', /confirm your email/i));
    expect((await api.post('/accounts/verify', { token: link })).json()).toMatchObject({
      email: 'after@example.com',
      emailVerified: true,
    });
    expect(
      (await api.post('/sessions', { email: 'before@example.com', password: 'moving house soon' }))
        .statusCode,
    ).toBe(401);
    expect(
      (await api.post('/sessions', { email: 'after@example.com', password: 'moving house soon' })).statusCode,
    ).toBe(201);
  });

  it('answers a taken email at sign-up with 409 email_taken only when the operator asks for it', async () => {
    await join(api, 'public@example.com', 'everyone may know');
    const quiet = await api.post('/accounts', {
      email: 'Public@Example.com',
      password: 'a different one',
      firstName: 'A',
      lastName: 'B',
    });
    expect(quiet.statusCode).toBe(201);
    await mail.take('public@example.com', /your canopy account/i);
    identityService(t.platform).deps.settings.signUpRevealsTakenEmail = true; // CANOPY_SIGNUP_REVEALS_TAKEN_EMAIL=true
    const loud = await api.post('/accounts', {
      email: 'PUBLIC@example.com',
      password: 'a different one',
      firstName: 'A',
      lastName: 'B',
    });
    expect(loud.statusCode).toBe(409);
    expect(loud.json()).toMatchObject({ code: 'email_taken' });
  });
});

describeEachDialect('organisations and invitations', (h) => {
  let t: TestApp;
  let api: Http;
  let mail: Mailbox;

  beforeAll(async () => {
    mail = await createMailbox();
    t = await createTestApp({ databaseUrl: h.url, env: mail.env });
    mail.attach(t.platform);
    api = http(t.app);
  });
  afterAll(async () => {
    await t.close();
    await mail.close();
  });

  it('invites by email; the invitee joins with the link; admins manage roles; an org keeps an admin', async () => {
    const owner = await join(api, 'owner@example.com', 'the owner password');
    const org = (await api.post('/orgs', { name: 'Treehouse' }, bearer(owner.token))).json<{
      id: string;
      role: string;
    }>();
    expect(org.role).toBe('admin');
    const personal =
      (await api.get('/me', bearer(owner.token)))
        .json<{ orgs: { id: string; personal: boolean }[] }>()
        .orgs.find((o) => o.personal)?.id ?? '';
    expect(
      (
        await api.post(
          `/orgs/${personal}/invitations`,
          { email: 'x@example.com', role: 'member' },
          bearer(owner.token),
        )
      ).json(),
    ).toMatchObject({ code: 'personal_org' });

    const invited = await api.post(
      `/orgs/${org.id}/invitations`,
      { email: 'Guest@Example.com', role: 'member' },
      bearer(owner.token),
    );
    expect(invited.statusCode).toBe(201);
    const link = tokenFrom(await mail.take('guest@example.com', /invited to Treehouse/));
    const guest = await join(api, 'guest@example.com', 'the guest password');
    const stranger = await join(api, 'stranger@example.com', 'the stranger password');
    expect(
      (await api.post('/invitations/accept', { token: link }, bearer(stranger.token))).json(),
    ).toMatchObject({ code: 'invitation_email_mismatch' });
    const accepted = await api.post('/invitations/accept', { token: link }, bearer(guest.token));
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json()).toMatchObject({ id: org.id, name: 'Treehouse', role: 'member' });
    expect(
      (await api.post('/invitations/accept', { token: link }, bearer(guest.token))).json(),
    ).toMatchObject({ code: 'invalid_token' });

    const members = (await api.get(`/orgs/${org.id}/members`, bearer(guest.token))).json<
      { email: string; role: string }[]
    >();
    expect(members.map((m) => [m.email, m.role])).toEqual([
      ['owner@example.com', 'admin'],
      ['guest@example.com', 'member'],
    ]);
    // A member is not an admin: 403 inside their own org.
    expect(
      (
        await api.post(
          `/orgs/${org.id}/invitations`,
          { email: 'y@example.com', role: 'member' },
          bearer(guest.token),
        )
      ).statusCode,
    ).toBe(403);
    expect((await api.get(`/orgs/${org.id}/audit`, bearer(guest.token))).statusCode).toBe(403);
    // The only admin cannot step down; after promoting the guest, they can.
    expect(
      (
        await api.patch(
          `/orgs/${org.id}/members/${owner.account.id}`,
          { role: 'member' },
          bearer(owner.token),
        )
      ).json(),
    ).toMatchObject({ code: 'last_admin' });
    expect(
      (await api.patch(`/orgs/${org.id}/members/${guest.account.id}`, { role: 'admin' }, bearer(owner.token)))
        .statusCode,
    ).toBe(204);
    expect(
      (
        await api.patch(
          `/orgs/${org.id}/members/${owner.account.id}`,
          { role: 'member' },
          bearer(owner.token),
        )
      ).statusCode,
    ).toBe(204);
    const audit = (await api.get(`/orgs/${org.id}/audit`, bearer(guest.token))).json<
      { action: string; detail: unknown }[]
    >();
    expect(audit.filter((e) => e.action === 'role.changed').map((e) => e.detail)).toEqual([
      { from: 'admin', to: 'member' },
      { from: 'member', to: 'admin' },
    ]);
    expect(audit.map((e) => e.action)).toEqual(
      expect.arrayContaining(['org.created', 'invitation.created', 'invitation.accepted']),
    );
    // GET /me shows both orgs with their roles.
    const me = (await api.get('/me', bearer(guest.token))).json<{ orgs: { name: string; role: string }[] }>();
    expect(me.orgs.map((o) => [o.name, o.role])).toEqual([
      ['Pat Person', 'admin'],
      ['Treehouse', 'admin'],
    ]);
  });
});

describe('the operator account', () => {
  it('is created from CANOPY_BOOTSTRAP_ADMIN_* and may call operator routes; others get 403', async () => {
    const t = await createTestApp({
      env: {
        CANOPY_BOOTSTRAP_ADMIN_EMAIL: 'ops@example.com',
        CANOPY_BOOTSTRAP_ADMIN_PASSWORD: 'operator passphrase',
      },
    });
    try {
      const api = http(t.app);
      const ops = (
        await api.post('/sessions', { email: 'ops@example.com', password: 'operator passphrase' })
      ).json<{ token: string }>();
      expect((await api.get('/me', bearer(ops.token))).json()).toMatchObject({
        operator: true,
        emailVerified: true,
      });
      expect((await api.get('/admin/audit', bearer(ops.token))).statusCode).toBe(200);
      const user = await join(api, 'user@example.com', 'an ordinary user');
      const denied = await api.get('/admin/audit', bearer(user.token));
      expect(denied.statusCode).toBe(403);
      expect(await identityService(t.platform).bootstrap.run(t.config)).toBeUndefined();
    } finally {
      await t.close();
    }
  });

  it('is created with the one-time link printed at first start, when no operator exists', async () => {
    const t = await createTestApp();
    try {
      const api = http(t.app);
      const link = await identityService(t.platform).bootstrap.run(t.config);
      expect(link).toMatch(/\/setup\?token=/);
      const token = new URL(link ?? '').searchParams.get('token') ?? '';
      const body = {
        token,
        email: 'root@example.com',
        password: 'first operator here',
        firstName: 'Root',
        lastName: 'Op',
      };
      const res = await api.post('/setup/operator', body);
      expect(res.statusCode).toBe(201);
      expect(
        (await api.post('/setup/operator', { ...body, email: 'root2@example.com' })).json(),
      ).toMatchObject({ code: 'invalid_token' });
      const ops = (
        await api.post('/sessions', { email: 'root@example.com', password: 'first operator here' })
      ).json<{ token: string }>();
      expect((await api.get('/admin/audit', bearer(ops.token))).statusCode).toBe(200);
      expect(await identityService(t.platform).bootstrap.run(t.config)).toBeUndefined();
    } finally {
      await t.close();
    }
  });
});

describe('password hashes of the other kind', () => {
  it('verify, and are upgraded at the next login; login latency is printed for both kinds', async () => {
    const t = await createTestApp();
    try {
      const api = http(t.app);
      const identity = identityService(t.platform);
      const settings = identity.deps.settings;
      await join(api, 'hash@example.com', 'hash brown potatoes');
      let ip = 0;
      const stored = async () => (await identity.accounts.byEmail('hash@example.com'))?.password_hash ?? '';
      expect(await stored()).toMatch(/^\$argon2id\$/);
      const timeLogins = async () => {
        const times: number[] = [];
        for (let i = 0; i < 5; i++) {
          const started = performance.now();
          expect(
            (
              await api.post(
                '/sessions',
                { email: 'hash@example.com', password: 'hash brown potatoes' },
                {},
                `198.51.100.${++ip}`,
              )
            ).statusCode,
          ).toBe(201);
          times.push(performance.now() - started);
        }
        return times.sort((a, b) => a - b)[2] ?? 0;
      };
      const argon = await timeLogins();
      settings.passwordHash = 'bcrypt'; // as CANOPY_PASSWORD_HASH=bcrypt would set it
      expect(
        (await api.post('/sessions', { email: 'hash@example.com', password: 'hash brown potatoes' }))
          .statusCode,
      ).toBe(201);
      expect(await stored()).toMatch(/^\$2b\$10\$/);
      const bcrypt = await timeLogins();
      settings.passwordHash = 'argon2id';
      expect(
        (await api.post('/sessions', { email: 'hash@example.com', password: 'hash brown potatoes' }))
          .statusCode,
      ).toBe(201);
      expect(await stored()).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      console.log(
        `login latency (median of 5, whole request): argon2id ${argon.toFixed(1)} ms, bcrypt cost 10 ${bcrypt.toFixed(1)} ms`,
      );
    } finally {
      await t.close();
    }
  });
});
