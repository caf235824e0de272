import { describe, expect, it } from 'vitest';
import { createApiClient, CSRF_HEADER, type CsrfTokenStore } from './client.ts';
import { ApiError } from './problem.ts';

interface Call {
  url: string;
  init: RequestInit;
}

function fakeServer(responses: Response[]) {
  const calls: Call[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(input), init: init ?? {} });
    const next = responses.shift();
    if (!next) throw new TypeError('Failed to fetch');
    return next;
  };
  let token: string | null = null;
  const csrf: CsrfTokenStore = { get: () => token, set: (t) => (token = t) };
  return { calls, api: createApiClient({ baseUrl: '/api/v1', fetch, csrf }), csrf };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const problem = (status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ type: 'about:blank', status, ...body }), {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  });

const account = { id: 'a1', email: 'ada@example.com', firstName: 'Ada', lastName: 'L', emailVerified: true };
const headerOf = (call: Call | undefined, name: string) =>
  (call?.init.headers as Record<string, string>)[name];

describe('api client', () => {
  it('keeps the CSRF token login returns and sends it on state-changing requests only', async () => {
    const { api, calls } = fakeServer([
      json(201, { token: 't', expiresAt: '2030-01-01T00:00:00Z', account }, { [CSRF_HEADER]: 'csrf-1' }),
      json(200, []),
      json(201, { id: 'm1', title: 'Plan' }),
    ]);
    await api.sessions.create({ email: 'ada@example.com', password: 'pw' });
    await api.maps.list();
    await api.maps.create('Plan');
    expect(calls.map((c) => `${c.init.method} ${c.url}`)).toEqual([
      'POST /api/v1/sessions',
      'GET /api/v1/maps',
      'POST /api/v1/maps',
    ]);
    expect(headerOf(calls[1], CSRF_HEADER)).toBeUndefined();
    expect(headerOf(calls[2], CSRF_HEADER)).toBe('csrf-1');
    expect(calls[2]!.init.credentials).toBe('same-origin');
    expect(calls[2]!.init.body).toBe(JSON.stringify({ title: 'Plan' }));
  });

  it('also accepts the CSRF token in the login body', async () => {
    const { api, csrf } = fakeServer([
      json(201, { token: 't', expiresAt: 'x', account, csrfToken: 'csrf-2' }),
    ]);
    await api.sessions.create({ email: 'a', password: 'b' });
    expect(csrf.get()).toBe('csrf-2');
  });

  it('throws the problem+json the server answered, with its code and field errors', async () => {
    const { api } = fakeServer([
      problem(400, {
        title: 'Invalid request',
        code: 'validation_failed',
        errors: [{ path: '/email', message: 'must be an email' }],
      }),
    ]);
    const error = await api.accounts
      .create({ email: 'x', password: 'p', firstName: 'A', lastName: 'B' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).problem).toMatchObject({
      status: 400,
      code: 'validation_failed',
      errors: [{ path: '/email', message: 'must be an email' }],
    });
  });

  it('reads Retry-After from a 429 and copes with non-JSON error bodies', async () => {
    const { api } = fakeServer([
      problem(429, { title: 'Too many requests', code: 'rate_limited' }, { 'retry-after': '30' }),
      new Response('<html>Bad gateway</html>', {
        status: 502,
        statusText: 'Bad Gateway',
        headers: { 'content-type': 'text/html' },
      }),
    ]);
    const limited = (await api.password.forgot('a@b.c').catch((e: unknown) => e)) as ApiError;
    expect(limited.problem).toMatchObject({ code: 'rate_limited', retryAfter: 30 });
    const gateway = (await api.me.get().catch((e: unknown) => e)) as ApiError;
    expect(gateway.problem).toMatchObject({ status: 502, code: 'http_502', title: 'Bad Gateway' });
  });

  it('reports an unreachable server as a network_error problem', async () => {
    const { api } = fakeServer([]);
    const error = (await api.maps.list().catch((e: unknown) => e)) as ApiError;
    expect(error.problem).toMatchObject({ status: 0, code: 'network_error' });
  });

  it("forgets the CSRF token on sign-out, not on another endpoint's 401", async () => {
    const { api, csrf } = fakeServer([
      problem(401, { title: 'Unauthenticated', code: 'unauthenticated' }),
      new Response(null, { status: 204 }),
    ]);
    csrf.set('c');
    await api.maps.list().catch(() => undefined);
    expect(csrf.get()).toBe('c');
    await api.sessions.deleteCurrent();
    expect(csrf.get()).toBeNull();
  });

  it('accepts a bare array or a page object from GET /maps', async () => {
    const { api } = fakeServer([json(200, { items: [{ id: 'm', title: 'T' }] })]);
    expect(await api.maps.list()).toEqual([{ id: 'm', title: 'T' }]);
  });
});
