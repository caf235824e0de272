import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  verifyLicenseToken,
  verifyValidationAnswer,
  type LicenseJwks,
  type ValidationAnswer,
} from '../../../../../packages/sdk/src/licensing/index.ts';
import { describeEachDialect } from '../../platform/db/testing.ts';
import { licensingService } from './index.ts';
import { call, createLicensingTestApp, type LicensingTestApp } from './testing.ts';

describeEachDialect('validation answers bound to the nonce', (h) => {
  let t: LicensingTestApp;
  let jwks: LicenseJwks;
  let n = 0;

  /** A user holding a seat on a fresh licence in a fresh org. */
  async function seated() {
    const orgId = `bind-org-${++n}`;
    const operator = call(t, t.identity.user(`vendor${n}@canopy.test`, {}, true).token);
    const admin = t.identity.user(`bind-admin${n}@example.com`, { [orgId]: 'admin' });
    const licenseId = String(
      (await operator('POST', '/admin/licenses', { orgId, products: ['desktop-mac'], seats: 3 })).body?.id,
    );
    const email = `bind${n}@example.com`;
    await call(t, admin.token)('POST', `/orgs/${orgId}/licenses/${licenseId}/seats`, { email });
    const user = t.identity.user(email);
    const validate = async (nonce: string) =>
      (
        await call(t, user.token)('POST', '/licenses/validate', {
          product: 'desktop-mac',
          fingerprint: 'mac',
          nonce,
        })
      ).body as unknown as ValidationAnswer & Record<string, unknown>;
    return { orgId, licenseId, operator, user, validate };
  }

  beforeAll(async () => {
    t = await createLicensingTestApp(h.url);
    jwks = (await call(t, undefined)('GET', '/licenses/keys')).body as unknown as LicenseJwks;
  });
  afterAll(() => t.close());

  it('lets the SDK accept the answer to its own nonce, and refuse a replayed, edited or misdirected one', async () => {
    const { user, validate } = await seated();
    const now = t.clock.now();
    const opts = { now, product: 'desktop-mac', fingerprint: 'mac', credential: user.token };
    const answer = await validate('n-fresh');
    expect(answer).toMatchObject({ valid: true, code: 'VALID', nonce: 'n-fresh' });
    expect(answer.nonceMac).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await verifyValidationAnswer(answer, jwks, { ...opts, nonce: 'n-fresh' })).toMatchObject({
      valid: true,
      claims: { email: `bind${n}@example.com`, fp: 'mac' },
    });
    // Yesterday's answer replayed to a client that has just sent another nonce.
    expect(await verifyValidationAnswer(answer, jwks, { ...opts, nonce: 'n-today' })).toEqual({
      valid: false,
      reason: 'nonce_mismatch',
    });
    // The replay with its nonce field rewritten to the new one: the MAC does not cover it.
    expect(
      await verifyValidationAnswer({ ...answer, nonce: 'n-today' }, jwks, { ...opts, nonce: 'n-today' }),
    ).toEqual({ valid: false, reason: 'bad_nonce_mac' });
    // A tampered MAC, a missing one, and a MAC checked under another session's credential.
    const mac = String(answer.nonceMac);
    const flipped = mac.slice(0, 10) + (mac[10] === 'A' ? 'B' : 'A') + mac.slice(11);
    for (const edited of [
      { ...answer, nonceMac: flipped },
      { ...answer, nonceMac: undefined },
    ]) {
      expect(await verifyValidationAnswer(edited, jwks, { ...opts, nonce: 'n-fresh' })).toEqual({
        valid: false,
        reason: 'bad_nonce_mac',
      });
    }
    expect(
      await verifyValidationAnswer(answer, jwks, {
        ...opts,
        nonce: 'n-fresh',
        credential: 'another-session',
      }),
    ).toEqual({ valid: false, reason: 'bad_nonce_mac' });
    // A refusal is not a licence, whatever its MAC.
    expect(
      await verifyValidationAnswer({ ...answer, valid: false, code: 'SUSPENDED' }, jwks, {
        ...opts,
        nonce: 'n-fresh',
      }),
    ).toEqual({ valid: false, reason: 'not_valid' });
  });

  it('reuses one signed token across answers, each with its own MAC, and signs anew once a suspension clears the cache', async () => {
    const { user, licenseId, operator, validate } = await seated();
    const first = await validate('n-1');
    const second = await validate('n-2');
    expect(second.token).toBe(first.token);
    expect(second.nonceMac).not.toBe(first.nonceMac);
    expect(
      await verifyValidationAnswer(second, jwks, {
        now: t.clock.now(),
        nonce: 'n-2',
        credential: user.token,
      }),
    ).toMatchObject({ valid: true });

    // The suspension takes effect on the next answer, whose MAC covers the refusal's code.
    await operator('POST', `/admin/licenses/${licenseId}/suspend`);
    const refused = await validate('n-3');
    expect(refused).toMatchObject({ valid: false, code: 'SUSPENDED', nonce: 'n-3' });
    expect(refused.token).toBeUndefined();
    expect(refused.nonceMac).toEqual(expect.any(String));

    t.clock.advance(1_000);
    await operator('POST', `/admin/licenses/${licenseId}/reinstate`);
    const again = await validate('n-4');
    expect(again).toMatchObject({ valid: true, code: 'VALID' });
    expect(again.token).not.toBe(first.token);
    const [before, after] = await Promise.all(
      [first, again].map((a) => verifyLicenseToken(String(a.token), jwks, { now: t.clock.now() })),
    );
    expect(before?.valid && after?.valid && after.claims.iat > before.claims.iat).toBe(true);
  });

  it('signs the nonce into a fresh token for a caller without a bearer credential (a cookie session)', async () => {
    const { user } = await seated();
    const caller = await t.identity.resolve({ headers: { authorization: `Bearer ${user.token}` } });
    const validator = licensingService(t.deps)?.validator;
    if (!caller || !validator) throw new Error('the harness lost the caller or the service');
    const answer = await validator.validate(caller, {
      product: 'desktop-mac',
      fingerprint: 'mac',
      nonce: 'n-cookie',
    });
    expect(answer).toMatchObject({ valid: true, nonce: 'n-cookie' });
    expect(answer.nonceMac).toBeUndefined();
    const now = t.clock.now();
    expect(await verifyLicenseToken(String(answer.token), jwks, { now, nonce: 'n-cookie' })).toMatchObject({
      valid: true,
      claims: { nonce: 'n-cookie' },
    });
    // The SDK's one online check covers this form too (the credential is then not used).
    expect(
      await verifyValidationAnswer(answer, jwks, { now, nonce: 'n-cookie', credential: 'unused' }),
    ).toMatchObject({ valid: true });
    expect(
      await verifyValidationAnswer({ ...answer, nonce: 'other' }, jwks, {
        now,
        nonce: 'other',
        credential: 'unused',
      }),
    ).toEqual({ valid: false, reason: 'nonce_mismatch' });
  });

  it('gives a warm answer (served as ready JSON) with the same fields as the cold one, bound to its own nonce', async () => {
    const { user, validate } = await seated();
    const opts = { now: t.clock.now(), product: 'desktop-mac', fingerprint: 'mac', credential: user.token };
    const cold = await validate('n-cold');
    // A nonce that needs JSON escaping: the warm path writes it into ready JSON.
    const nonce = 'quote " backslash \\ newline \n é 🌳';
    const warm = await validate(nonce);
    expect(warm).toEqual({ ...cold, nonce, nonceMac: warm.nonceMac });
    expect(warm.nonceMac).not.toBe(cold.nonceMac);
    expect(await verifyValidationAnswer(warm, jwks, { ...opts, nonce })).toMatchObject({ valid: true });
    // Without a nonce, the warm answer has neither nonce nor MAC.
    const bare = await validate(undefined as unknown as string);
    expect(bare).toEqual(Object.fromEntries(Object.entries(cold).filter(([k]) => !k.startsWith('nonce'))));
  });
});
