import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../platform/db/testing.ts';
import { call, createLicensingTestApp, type LicensingTestApp } from './testing.ts';

describeEachDialect('the validation route’s request log', (h) => {
  let t: LicensingTestApp;
  const lines: { msg?: string; route?: string }[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean))
          lines.push(JSON.parse(line) as { msg?: string; route?: string });
        done();
      },
    });
    t = await createLicensingTestApp(h.url, {
      env: { CANOPY_LOG_LEVEL: 'info' },
      logger: pino({ level: 'info' }, sink),
    });
  });
  afterAll(() => t.close());

  it('writes no info line per validation, while other routes keep theirs', async () => {
    const u = t.identity.user('logged@example.com');
    expect((await call(t, u.token)('POST', '/licenses/validate', { product: 'desktop-mac' })).status).toBe(
      200,
    );
    expect((await call(t, undefined)('GET', '/licenses/keys')).status).toBe(200);
    const routes = lines.filter((l) => l.msg === 'request').map((l) => l.route);
    expect(routes).toContain('/api/v1/licenses/keys');
    expect(routes).not.toContain('/api/v1/licenses/validate');
  });
});
