import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../platform/db/testing.ts';
import { call, createLicensingTestApp, type LicensingTestApp } from './testing.ts';

describeEachDialect('the validation route’s rate limit', (h) => {
  let t: LicensingTestApp;

  beforeAll(async () => {
    t = await createLicensingTestApp(h.url, { env: { CANOPY_RATE_LIMIT_PER_MINUTE: '3' } });
  });
  afterAll(() => t.close());

  it('counts per bearer credential, so clients behind one address do not share a budget', async () => {
    // Every injected request comes from the same address, like an office behind one NAT.
    const validate = (token: string) =>
      call(t, token)('POST', '/licenses/validate', { product: 'desktop-mac', fingerprint: 'pc' });
    const ada = t.identity.user('ada@example.com');
    const bob = t.identity.user('bob@example.com');
    for (let i = 0; i < 3; i++) expect((await validate(ada.token)).status).toBe(200);
    expect((await validate(ada.token)).status).toBe(429);
    expect((await validate(bob.token)).status).toBe(200);
  });

  it('sends the budget headers only with a refusal (with Retry-After), not on every answer', async () => {
    const carol = t.identity.user('carol@example.com');
    const validate = () =>
      call(t, carol.token)('POST', '/licenses/validate', { product: 'desktop-mac', fingerprint: 'pc' });
    const answered = await validate();
    expect(answered.status).toBe(200);
    expect(Object.keys(answered.headers).filter((h) => h.startsWith('x-ratelimit'))).toEqual([]);
    await validate();
    await validate();
    const refused = await validate();
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBeDefined();
    expect(refused.headers['x-ratelimit-limit']).toBe('3');
  });
});
