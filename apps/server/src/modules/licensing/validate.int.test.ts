import { generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  verifyLicenseToken,
  verifyValidationAnswer,
  type LicenseJwks,
  type ValidationAnswer,
} from '../../../../../packages/sdk/src/licensing/index.ts';
import { describeEachDialect } from '../../platform/db/testing.ts';
import { VALIDATION_CODES } from './codes.ts';
import { activationCuller } from './jobs.ts';
import { INVALIDATE_CHANNEL, licensingService } from './index.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { call, createLicensingTestApp, type LicensingTestApp } from './testing.ts';

const HOUR = 3_600_000;

describeEachDialect('licence validation', (h) => {
  let t: LicensingTestApp;
  let operator: ReturnType<typeof call>;
  let n = 0;
  /** A fresh org with an admin and a licence; returns helpers bound to it. */
  async function org(
    body: { products?: string[]; seats?: number; expiresAt?: string; policy?: string } = {},
  ) {
    const orgId = `org-${++n}`;
    const admin = t.identity.user(`admin${n}@example.com`, { [orgId]: 'admin' });
    const res = await operator('POST', '/admin/licenses', {
      orgId,
      products: body.products ?? ['desktop-windows', 'desktop-mac'],
      seats: body.seats ?? 5,
      ...(body.expiresAt ? { expiresAt: body.expiresAt } : {}),
      ...(body.policy ? { policy: body.policy } : {}),
    });
    expect(res.status).toBe(201);
    const licenseId = String(res.body?.id);
    const asAdmin = call(t, admin.token);
    const seat = async (email: string) => {
      const r = await asAdmin('POST', `/orgs/${orgId}/licenses/${licenseId}/seats`, { email });
      expect(r.status).toBe(201);
    };
    return { orgId, licenseId, asAdmin, seat };
  }
  const validate = (token: string, body: Record<string, string>) =>
    call(t, token)('POST', '/licenses/validate', body);

  beforeAll(async () => {
    t = await createLicensingTestApp(h.url);
    operator = call(t, t.identity.user('vendor@canopy.test', {}, true).token);
    const floating = await operator('POST', '/admin/license-policies', {
      id: 'floating-2',
      name: 'Floating',
      durationDays: null,
      seatModel: 'floating',
      maxMachinesPerUser: null,
      overage: 'reject',
      heartbeatIntervalS: 600,
      offlineGraceS: 86_400,
    });
    expect(floating.status).toBe(201);
  });
  afterAll(() => t.close());

  it('publishes its codes in a fixed order that ends with VALID', () => {
    expect(VALIDATION_CODES[0]).toBe('UNKNOWN_PRODUCT');
    expect(VALIDATION_CODES.at(-1)).toBe('VALID');
  });

  it('answers 401 to a caller without a session, and 400 to a body without a product', async () => {
    expect((await call(t, undefined)('POST', '/licenses/validate', { product: 'mobile' })).status).toBe(401);
    const u = t.identity.user('nobody@example.com');
    expect((await validate(u.token, {})).status).toBe(400);
  });

  it('UNKNOWN_PRODUCT: a product this server does not license', async () => {
    const u = t.identity.user('unknown@example.com');
    const r = await validate(u.token, { product: 'desktop-amiga', nonce: 'n1' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ valid: false, code: 'UNKNOWN_PRODUCT', nonce: 'n1' });
  });

  it('NOT_FOUND: no seat anywhere and no org with a licence', async () => {
    const u = t.identity.user('stranger@example.com');
    const r = await validate(u.token, { product: 'desktop-windows' });
    expect(r.body).toMatchObject({ valid: false, code: 'NOT_FOUND' });
    expect(r.body?.license).toBeUndefined();
    expect(r.body?.token).toBeUndefined();
  });

  it('PRODUCT_SCOPE_MISMATCH: a seat on a licence that does not cover the product', async () => {
    const o = await org({ products: ['mobile'] });
    await o.seat('phone-only@example.com');
    const u = t.identity.user('phone-only@example.com');
    expect((await validate(u.token, { product: 'desktop-mac', fingerprint: 'm1' })).body).toMatchObject({
      code: 'PRODUCT_SCOPE_MISMATCH',
    });
    expect((await validate(u.token, { product: 'mobile', fingerprint: 'm1' })).body).toMatchObject({
      code: 'VALID',
    });
  });

  it('SUSPENDED: the operator suspended the licence; reinstating restores it', async () => {
    const o = await org();
    await o.seat('suspended@example.com');
    const u = t.identity.user('suspended@example.com');
    expect((await operator('POST', `/admin/licenses/${o.licenseId}/suspend`)).body).toMatchObject({
      status: 'suspended',
    });
    const r = await validate(u.token, { product: 'desktop-mac', fingerprint: 'f' });
    expect(r.body).toMatchObject({
      valid: false,
      code: 'SUSPENDED',
      license: { id: o.licenseId, status: 'suspended' },
    });
    expect(r.body?.token).toBeUndefined();
    await operator('POST', `/admin/licenses/${o.licenseId}/reinstate`);
    expect((await validate(u.token, { product: 'desktop-mac', fingerprint: 'f' })).body).toMatchObject({
      code: 'VALID',
    });
  });

  it('EXPIRED: past its expiry; extending it makes it valid again', async () => {
    const expiresAt = new Date(t.clock.now().getTime() + 2 * HOUR).toISOString();
    const o = await org({ expiresAt });
    await o.seat('expiring@example.com');
    const u = t.identity.user('expiring@example.com');
    expect((await validate(u.token, { product: 'desktop-mac', fingerprint: 'f' })).body).toMatchObject({
      code: 'VALID',
    });
    t.clock.advance(3 * HOUR);
    try {
      licensingService(depsOf(t))?.validator.invalidate();
      expect((await validate(u.token, { product: 'desktop-mac', fingerprint: 'f' })).body).toMatchObject({
        code: 'EXPIRED',
      });
      const later = new Date(t.clock.now().getTime() + 30 * 24 * HOUR).toISOString();
      expect(
        (await operator('POST', `/admin/licenses/${o.licenseId}/extend`, { expiresAt: later })).body,
      ).toMatchObject({ status: 'active' });
      expect((await validate(u.token, { product: 'desktop-mac', fingerprint: 'f' })).body).toMatchObject({
        code: 'VALID',
      });
    } finally {
      t.clock.advance(-3 * HOUR);
    }
  });

  it('SEAT_DEACTIVATED and NO_SEAT: a blocked seat, and an org member without one', async () => {
    const o = await org();
    await o.seat('blocked@example.com');
    const blocked = t.identity.user('blocked@example.com', { [o.orgId]: 'member' });
    await o.asAdmin('POST', `/orgs/${o.orgId}/licenses/${o.licenseId}/seats/blocked@example.com/deactivate`);
    expect(
      (await validate(blocked.token, { product: 'desktop-windows', fingerprint: 'f' })).body,
    ).toMatchObject({ code: 'SEAT_DEACTIVATED' });
    const member = t.identity.user(`seatless${n}@example.com`, { [o.orgId]: 'member' });
    const r = await validate(member.token, { product: 'desktop-windows', fingerprint: 'f' });
    expect(r.body).toMatchObject({ valid: false, code: 'NO_SEAT', license: { id: o.licenseId } });
  });

  it('answers from its cache until another node says on the bus that licensing data changed', async () => {
    const o = await org();
    await o.seat('cached@example.com');
    const u = t.identity.user('cached@example.com');
    expect((await validate(u.token, { product: 'desktop-mac', fingerprint: 'f' })).body).toMatchObject({
      code: 'VALID',
    });
    // Another node suspends the licence: its write reaches this node's database, not this node's cache.
    await withTenant(t.platform.database, o.orgId, (scope) =>
      scope.trx.updateTable('licenses').set({ status: 'suspended' }).where('id', '=', o.licenseId).execute(),
    );
    expect((await validate(u.token, { product: 'desktop-mac', fingerprint: 'f' })).body).toMatchObject({
      code: 'VALID',
    });
    await t.platform.pubsub.publish(INVALIDATE_CHANNEL, 'changed');
    let code: unknown;
    for (let i = 0; i < 100 && code !== 'SUSPENDED'; i++) {
      await new Promise((r) => setImmediate(r));
      code = (await validate(u.token, { product: 'desktop-mac', fingerprint: 'f' })).body?.code;
    }
    expect(code).toBe('SUSPENDED');
  });

  it('FINGERPRINT_REQUIRED: a licence that counts machines needs the fingerprint', async () => {
    const o = await org();
    await o.seat('nofp@example.com');
    const u = t.identity.user('nofp@example.com');
    expect((await validate(u.token, { product: 'desktop-windows' })).body).toMatchObject({
      code: 'FINGERPRINT_REQUIRED',
    });
  });

  it('TOO_MANY_MACHINES: a fourth machine on the standard policy; releasing one or culling a dead one frees a slot', async () => {
    const o = await org();
    await o.seat('many@example.com');
    const u = t.identity.user('many@example.com');
    const ids: string[] = [];
    for (const fp of ['pc-1', 'pc-2', 'pc-3']) {
      const r = await validate(u.token, { product: 'desktop-windows', fingerprint: fp });
      expect(r.body).toMatchObject({ code: 'VALID' });
      ids.push(String((r.body?.license as { activationId: string }).activationId));
    }
    // The same machine again is the same activation, not a new one.
    const again = await validate(u.token, { product: 'desktop-windows', fingerprint: 'pc-1' });
    expect((again.body?.license as { activationId: string }).activationId).toBe(ids[0]);
    expect((await validate(u.token, { product: 'desktop-windows', fingerprint: 'pc-4' })).body).toMatchObject(
      { valid: false, code: 'TOO_MANY_MACHINES' },
    );
    const me = call(t, u.token);
    expect(
      (await me('POST', '/licenses/activations', { product: 'desktop-windows', fingerprint: 'pc-4' })).body,
    ).toMatchObject({ code: 'too_many_machines' });

    expect((await me('DELETE', `/licenses/activations/${ids[2]}`)).status).toBe(204);
    expect((await validate(u.token, { product: 'desktop-windows', fingerprint: 'pc-4' })).body).toMatchObject(
      { code: 'VALID' },
    );

    // pc-1..pc-4 minus pc-3: three live machines. Let two heartbeat intervals pass with only pc-4 beating.
    const svc = licensingService(depsOf(t));
    t.clock.advance(2 * HOUR + 1000);
    try {
      const pc4 = (await validate(u.token, { product: 'desktop-windows', fingerprint: 'pc-4' })).body
        ?.license as { activationId: string };
      expect((await me('POST', `/licenses/activations/${pc4.activationId}/heartbeat`)).status).toBe(200);
      expect((await me('POST', `/licenses/activations/${ids[0]}/heartbeat`)).status).toBe(404);
      expect(await activationCuller(svc!.ctx)()).toBeGreaterThanOrEqual(2);
      for (const fp of ['pc-5', 'pc-6']) {
        expect((await validate(u.token, { product: 'desktop-windows', fingerprint: fp })).body).toMatchObject(
          { code: 'VALID' },
        );
      }
      expect(
        (await validate(u.token, { product: 'desktop-windows', fingerprint: 'pc-7' })).body,
      ).toMatchObject({ code: 'TOO_MANY_MACHINES' });
    } finally {
      t.clock.advance(-(2 * HOUR + 1000));
      svc?.validator.invalidate();
    }
  });

  it('NO_SEAT on a floating licence whose seats are all leased', async () => {
    const o = await org({ policy: 'floating-2', seats: 2 });
    const users = [1, 2, 3].map((i) =>
      t.identity.user(`float${i}-${o.orgId}@example.com`, { [o.orgId]: 'member' }),
    );
    for (const u of users.slice(0, 2)) {
      expect(
        (await validate(u.token, { product: 'desktop-mac', fingerprint: `m-${u.caller.email}` })).body,
      ).toMatchObject({ code: 'VALID' });
    }
    const third = users[2]!;
    const r = await validate(third.token, { product: 'desktop-mac', fingerprint: 'm-3' });
    expect(r.body).toMatchObject({ valid: false, code: 'NO_SEAT' });
    expect(String(r.body?.detail)).toContain('floating');
    // Floating needs a fingerprint (the lease is a machine).
    expect((await validate(third.token, { product: 'desktop-mac' })).body).toMatchObject({
      code: 'FINGERPRINT_REQUIRED',
    });
  });

  describe('the signed licence token', () => {
    let jwks: LicenseJwks;
    let token: string;
    let answer: ValidationAnswer;
    let user: { token: string };

    beforeAll(async () => {
      const o = await org();
      await o.seat('tokens@example.com');
      user = t.identity.user('tokens@example.com');
      const r = await validate(user.token, {
        product: 'desktop-mac',
        fingerprint: 'mac-1',
        nonce: 'nonce-123',
      });
      expect(r.body).toMatchObject({ valid: true, code: 'VALID', nonce: 'nonce-123' });
      answer = r.body as unknown as ValidationAnswer;
      token = String(r.body?.token);
      jwks = (await call(t, undefined)('GET', '/licenses/keys')).body as unknown as LicenseJwks;
    });

    it('verifies offline against the JWKS, bound to the product and machine; the answer to the nonce', async () => {
      const now = t.clock.now();
      const ok = await verifyLicenseToken(token, jwks, { now, product: 'desktop-mac', fingerprint: 'mac-1' });
      expect(ok.valid).toBe(true);
      if (!ok.valid) return;
      expect(ok.claims).toMatchObject({ email: 'tokens@example.com', product: 'desktop-mac', fp: 'mac-1' });
      // A bearer caller's nonce is bound by the answer's MAC (answer-binding.int.test.ts), not inside the token.
      expect(ok.claims.nonce).toBeUndefined();
      expect(
        await verifyValidationAnswer(answer, jwks, { now, nonce: 'nonce-123', credential: user.token }),
      ).toMatchObject({ valid: true });
      // exp is the standard policy's offline grace (7 days).
      expect(ok.claims.exp - ok.claims.iat).toBe(7 * 86_400);
      expect(await verifyLicenseToken(token, jwks, { now, fingerprint: 'other-mac' })).toEqual({
        valid: false,
        reason: 'fingerprint_mismatch',
      });
      expect(await verifyLicenseToken(token, jwks, { now, product: 'mobile' })).toEqual({
        valid: false,
        reason: 'product_mismatch',
      });
    });

    it('refuses a token past its exp (the offline grace)', async () => {
      const later = new Date(t.clock.now().getTime() + 7 * 86_400_000 + 1000);
      expect(await verifyLicenseToken(token, jwks, { now: later })).toEqual({
        valid: false,
        reason: 'expired',
      });
    });

    it('refuses a tampered token', async () => {
      const [header, payload, signature] = token.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      const forged = Buffer.from(
        JSON.stringify({ ...claims, products: ['desktop-mac', 'teams'], exp: 4_000_000_000 }),
      ).toString('base64url');
      const now = t.clock.now();
      expect(await verifyLicenseToken(`${header}.${forged}.${signature}`, jwks, { now })).toEqual({
        valid: false,
        reason: 'bad_signature',
      });
      // Change a character in the middle (the last one carries padding bits a decoder may ignore).
      const flipped = signature.slice(0, 20) + (signature[20] === 'A' ? 'B' : 'A') + signature.slice(21);
      expect(await verifyLicenseToken(`${header}.${payload}.${flipped}`, jwks, { now })).toEqual({
        valid: false,
        reason: 'bad_signature',
      });
      const none = Buffer.from(JSON.stringify({ alg: 'none', kid: 'x' })).toString('base64url');
      expect(await verifyLicenseToken(`${none}.${payload}.`, jwks, { now })).toEqual({
        valid: false,
        reason: 'unsupported_algorithm',
      });
      expect(await verifyLicenseToken('not-a-token', jwks, { now })).toEqual({
        valid: false,
        reason: 'malformed',
      });
    });

    it('is signed by a node key that the platform key certifies; a forged certificate is refused', async () => {
      const header = decodeHeader(token);
      expect(header).toMatchObject({ alg: 'EdDSA', typ: 'canopy-license+jwt' });
      expect(jwks.keys.map((k) => k.kid)).not.toContain(header.kid);
      expect(jwks.keys.map((k) => k.kid)).toContain(rootKid(token));
      // An attacker's own key, "certified" by a delegation the attacker signed: refused.
      const pair = generateKeyPairSync('ed25519');
      const x = (pair.publicKey.export({ format: 'jwk' }) as { x: string }).x;
      const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const dlgInput = `${b64({ alg: 'EdDSA', typ: 'canopy-license-delegation+jwt', kid: rootKid(token) })}.${b64({ sub: 'evil', x, iat: 0, exp: 4e9 })}`;
      const dlg = `${dlgInput}.${sign(null, Buffer.from(dlgInput), pair.privateKey).toString('base64url')}`;
      const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as object;
      const input = `${b64({ alg: 'EdDSA', kid: 'evil', dlg })}.${b64({ ...claims, products: ['teams'] })}`;
      const forged = `${input}.${sign(null, Buffer.from(input), pair.privateKey).toString('base64url')}`;
      expect(await verifyLicenseToken(forged, jwks, { now: t.clock.now() })).toEqual({
        valid: false,
        reason: 'bad_delegation',
      });
      // The real certificate, with a token signed by another key: refused.
      const stolen = `${b64({ alg: 'EdDSA', kid: header.kid, dlg: header.dlg })}.${b64(claims)}`;
      const mixed = `${stolen}.${sign(null, Buffer.from(stolen), pair.privateKey).toString('base64url')}`;
      expect(await verifyLicenseToken(mixed, jwks, { now: t.clock.now() })).toEqual({
        valid: false,
        reason: 'bad_signature',
      });
    });

    it('after a key rotation: new tokens use the new key, and a token signed by the retired key still verifies', async () => {
      const oldKid = rootKid(token);
      const newKid = t.signer.rotate();
      licensingService(depsOf(t))?.validator.renewDelegation();
      const after = (await call(t, undefined)('GET', '/licenses/keys')).body as unknown as LicenseJwks;
      expect(after.keys.map((k) => [k.kid, k.status])).toEqual(
        expect.arrayContaining([
          [newKid, 'active'],
          [oldKid, 'retired'],
        ]),
      );
      const now = t.clock.now();
      expect((await verifyLicenseToken(token, after, { now })).valid).toBe(true);

      const fresh = await validate(user.token, { product: 'desktop-mac', fingerprint: 'mac-1' });
      const freshToken = String(fresh.body?.token);
      expect(rootKid(freshToken)).toBe(newKid);
      expect((await verifyLicenseToken(freshToken, after, { now })).valid).toBe(true);
      // A client holding the JWKS from before the rotation cannot know the new key yet.
      expect(await verifyLicenseToken(freshToken, jwks, { now })).toEqual({
        valid: false,
        reason: 'unknown_key',
      });
      // Once the retired key is dropped from the JWKS, its tokens stop verifying.
      t.signer.drop(oldKid);
      const dropped = (await call(t, undefined)('GET', '/licenses/keys')).body as unknown as LicenseJwks;
      expect(await verifyLicenseToken(token, dropped, { now })).toEqual({
        valid: false,
        reason: 'unknown_key',
      });
    });
  });
});

function decodeHeader(token: string): { alg: string; typ: string; kid: string; dlg: string } {
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as {
    alg: string;
    typ: string;
    kid: string;
    dlg: string;
  };
}

/** The platform key behind a token: the kid of its delegation's header. */
function rootKid(token: string): string {
  const dlg = decodeHeader(token).dlg;
  return (JSON.parse(Buffer.from(dlg.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
}

/** The AppDeps the harness built the app with (the module keeps its service per AppDeps). */
function depsOf(t: LicensingTestApp) {
  return t.deps;
}
