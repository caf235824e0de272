import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { Validator } from '@seriousme/openapi-schema-validator';
import { createTestApp, type TestApp } from './test/harness.ts';

describe('the HTTP platform', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      plugins: [
        async (app) => {
          app.post(
            '/api/v1/_test/echo',
            {
              config: { access: 'public' },
              schema: {
                body: Type.Object({
                  name: Type.String({ minLength: 1 }),
                  count: Type.Integer({ minimum: 0 }),
                }),
              },
            },
            async (request) => request.body,
          );
          app.get('/api/v1/_test/unclassified', async () => ({ leaked: true }));
          app.get('/api/v1/_test/crash', { config: { access: 'public' } }, async () => {
            throw new Error('secret database detail');
          });
        },
      ],
    });
  });
  afterAll(() => t.close());

  it('answers an unknown route with a 404 problem+json and a code', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ status: 404, code: 'not_found', title: 'Not Found' });
  });

  it('answers a malformed JSON body with a 400 and a code, never a 500', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/_test/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": "ada", ',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'invalid_json' });
  });

  it('refuses NUL characters in the URL and in JSON bodies with a 400 (PostgreSQL refuses them in text)', async () => {
    for (const url of ['/api/v1/_test/echo%00', '/api/v1/_test/echo?x=a%00b']) {
      const res = await t.app.inject({ method: 'POST', url, payload: { name: 'ada', count: 1 } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'bad_url' });
    }
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/_test/echo',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'a\u0000da', count: 1 }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'validation_failed',
      errors: [{ path: 'body.name', message: 'must not contain a NUL character' }],
    });
  });

  it('answers a body nested deeper than the stack with a 400, not a 500', async () => {
    const depth = 100_000;
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/_test/echo',
      headers: { 'content-type': 'application/json' },
      payload: '['.repeat(depth) + ']'.repeat(depth),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed' });
  });

  it('answers a path parameter over the router’s length limit with 414 and a code', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/maps/${'x'.repeat(500)}` });
    expect(res.statusCode).toBe(414);
    expect(res.json()).toMatchObject({ code: 'uri_too_long' });
  });

  it('lists each bad field of an invalid body', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/_test/echo',
      payload: { name: '', count: -1 },
    });
    expect(res.statusCode).toBe(400);
    const body = res.json<{ code: string; errors: { path: string }[] }>();
    expect(body.code).toBe('validation_failed');
    expect(body.errors.map((e) => e.path).sort()).toEqual(['body.count', 'body.name']);
  });

  it('refuses a body of an unsupported type with 415', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/_test/echo',
      headers: { 'content-type': 'application/x-unknown' },
      payload: 'x',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ code: 'unsupported_media_type' });
  });

  it('refuses a body over the size limit with 413', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/_test/echo',
      payload: { name: 'x'.repeat(t.config.bodyLimitBytes + 1), count: 1 },
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'too_large' });
  });

  it('refuses every request to a route that declares no access classification', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/_test/unclassified' });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('leaked');
  });

  it('hides the details of a 5xx from the client and gives the request id', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/_test/crash' });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('secret database detail');
    expect(res.json()).toMatchObject({ code: 'internal_error', requestId: res.headers['x-request-id'] });
  });

  it('sends the security headers', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(res.headers['strict-transport-security']).toBeUndefined(); // plain HTTP
    expect(res.headers['access-control-allow-origin']).toBeUndefined(); // CORS is off by default
  });

  it('sends API answers the REST set of security headers, stricter and without the page-only ones', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
    expect(res.headers).toMatchObject({
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cross-origin-resource-policy': 'same-origin',
    });
    for (const pageOnly of ['cross-origin-opener-policy', 'x-dns-prefetch-control', 'x-xss-protection']) {
      expect(res.headers[pageOnly]).toBeUndefined();
    }
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });

  it('sends HSTS on HTTPS requests behind a trusted proxy, and not when an untrusted client claims HTTPS', async () => {
    const proxied = await createTestApp({ env: { CANOPY_TRUSTED_PROXIES: '127.0.0.1' } });
    try {
      for (const url of ['/healthz', '/api/v1/nothing-here']) {
        const res = await proxied.app.inject({
          method: 'GET',
          url,
          headers: { 'x-forwarded-proto': 'https' },
          remoteAddress: '127.0.0.1',
        });
        expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      }
    } finally {
      await proxied.close();
    }
    const claimed = await t.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(claimed.headers['strict-transport-security']).toBeUndefined();
  });

  it('reports readiness of its dependencies', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ status: string; checks: { name: string; ok: boolean }[] }>();
    expect(body.status).toBe('ready');
    expect(body.checks).toEqual(
      expect.arrayContaining([
        { name: 'database', ok: true },
        { name: 'blobs', ok: true },
      ]),
    );
  });

  it('serves Prometheus metrics (HTTP latency, event-loop delay, jobs run by outcome) to loopback only', async () => {
    await t.app.inject({ method: 'GET', url: '/healthz' });
    const res = await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('canopy_http_request_duration_seconds_bucket');
    expect(res.body).toContain('route="/healthz"');
    expect(res.body).toContain('nodejs_eventloop_lag_seconds');
    t.platform.jobs.define('app_test.counted', async () => {});
    await t.platform.jobs.enqueue('app_test.counted');
    await t.platform.jobs.drain();
    const after = await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
    expect(after.body).toContain('canopy_jobs_total{job="app_test.counted",outcome="done"} 1');
    const remote = await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.9' });
    expect(remote.statusCode).toBe(403);
  });

  it('publishes a valid OpenAPI 3.1 document that lists every route', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    const doc = res.json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
    expect(doc.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(validator.version).toBe('3.1');
    const listed = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
      ),
    );
    const toOpenApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const missing = t.app.routeList
      .filter((r) => !r.hidden)
      .map((r) => `${r.method} ${toOpenApiPath(r.url)}`)
      .filter((r) => !listed.has(r));
    expect(missing).toEqual([]);
    expect(t.app.routeList.filter((r) => !r.hidden).length).toBeGreaterThanOrEqual(3);
  });

  it('serves the browsable API docs', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('swagger');
  });
});

describe('rate limiting', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { CANOPY_RATE_LIMIT_PER_MINUTE: '3' } });
  });
  afterAll(() => t.close());

  it('answers 429 rate_limited with Retry-After once a client is over its budget', async () => {
    const responses = [];
    for (let i = 0; i < 4; i++) {
      responses.push(
        await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json', remoteAddress: '198.51.100.7' }),
      );
    }
    expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 200, 429]);
    const limited = responses[3];
    expect(limited?.json()).toMatchObject({ code: 'rate_limited', status: 429 });
    expect(Number(limited?.headers['retry-after'])).toBeGreaterThan(0);
    const other = await t.app.inject({
      method: 'GET',
      url: '/api/v1/openapi.json',
      remoteAddress: '198.51.100.8',
    });
    expect(other.statusCode).toBe(200);
  });

  it('never limits the health probes and the metrics scrape, which come from one orchestrator address', async () => {
    for (const url of ['/healthz', '/readyz', '/metrics']) {
      for (let i = 0; i < 5; i++) {
        const res = await t.app.inject({ method: 'GET', url, remoteAddress: '127.0.0.1' });
        expect(res.statusCode, url).toBe(200);
        expect(res.headers['x-ratelimit-limit']).toBeUndefined();
      }
    }
    // …while the same address is limited on the API.
    const codes = [];
    for (let i = 0; i < 4; i++) {
      codes.push(
        (await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json', remoteAddress: '127.0.0.1' }))
          .statusCode,
      );
    }
    expect(codes).toEqual([200, 200, 200, 429]);
  });
});
