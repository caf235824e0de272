/**
 * Every route of the API on bad input (the ground rule: bad input gets a clear 4xx answer with a code, never a
 * 5xx): random and hostile bodies, shaped after each route's own schema (every field of the wrong type, empty,
 * huge, with NULs...), junk query strings and path parameters, as a signed-in user with real ids around. On
 * each database, since their limits differ (a string too long for a column is an error in PostgreSQL).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { App } from './app.ts';
import { call, createLicensingTestApp, type LicensingTestApp } from './modules/licensing/testing.ts';
import { describeEachDialect } from './platform/db/testing.ts';
import { createTestApp, type TestApp } from './test/harness.ts';

interface Operation {
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  parameters?: { name: string; in: string }[];
}
interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema;
}

/** Requests per route (CANOPY_FUZZ_ROUNDS: more for an exploratory run). */
const ROUNDS = Number(process.env.CANOPY_FUZZ_ROUNDS ?? 12);
const SEED = Number(process.env.CANOPY_FUZZ_SEED ?? 7);

/** A JSON body nested 100,000 deep. */
const DEEP = '['.repeat(100_000) + ']'.repeat(100_000);

/** Values that break naive handlers: wrong types, empties, extremes, control and astral characters. */
const HOSTILE: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  1e308,
  -9007199254740992 * 2,
  '',
  ' ',
  'x'.repeat(5_000),
  '\u0000',
  'a\u0000b',
  '💥'.repeat(300),
  '../../etc/passwd',
  "'; drop table maps; --",
  '<script>alert(1)</script>',
  'not-an-email',
  '2026-13-45T99:99:99Z',
  [],
  [null],
  ['x'.repeat(300)],
  {},
  { nested: { deeper: [1, 'two', null] } },
];

type Doc = { paths: Record<string, Record<string, Operation>> };

interface Target {
  app: App;
  /** The bearer token for a path template (undefined: none). */
  token(path: string): string | undefined;
  /** Real values for path parameters, by name. */
  ids: Record<string, string>;
  /** Called after a 401 on `path`: the session may have ended (sign-out, password change). */
  reauthenticate?(path: string): Promise<void>;
}

let ip = 0;
/** A fresh address per request: the per-IP limits are not what this test is about. */
const nextIp = () => `10.${(ip >> 16) & 255}.${(ip >> 8) & 255}.${ip++ & 255}`;

/**
 * `ROUNDS` requests per operation of `paths` (those `only` keeps), each with a hostile body, query and path;
 * the answers that are 5xx, or 4xx without a code.
 */
async function fuzzRoutes(target: Target, seed: number, only: (path: string) => boolean = () => true) {
  const doc = (await target.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json<Doc>();
  let state = seed;
  const rnd = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const randomJson = fc.sample(fc.jsonValue({ maxDepth: 3 }), { numRuns: 400, seed });
  /** A value for a field: hostile, or random JSON. */
  const field = () => (rnd() < 0.5 ? pick(HOSTILE) : pick(randomJson));
  /** A body shaped after the schema, every field wrong in some way; or just anything. */
  const body = (schema: Schema | undefined): unknown => {
    if (!schema?.properties || rnd() < 0.25) return pick([...HOSTILE, ...randomJson.slice(0, 40)]);
    return Object.fromEntries(
      Object.keys(schema.properties)
        .filter(() => rnd() < 0.8)
        .map((name) => [name, field()]),
    );
  };
  const junk = () =>
    encodeURIComponent(pick(['', 'x'.repeat(300), '\u0000', '💥', '..', '%', 'null', '-1', '1e9', ' ']));

  const failures: string[] = [];
  let requests = 0;
  for (const [path, operations] of Object.entries(doc.paths)) {
    if (!only(path)) continue;
    for (const [method, op] of Object.entries(operations)) {
      const content = op.requestBody?.content ?? {};
      const [mediaType, media] = Object.entries(content)[0] ?? ['application/json', undefined];
      const queryNames = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
      for (let k = 0; k < ROUNDS; k++) {
        // Path parameters: a real id half the time (so the handler runs past its lookup), junk otherwise.
        const url = path.replace(/\{(\w+)\}/g, (_, name: string) =>
          target.ids[name] && rnd() < 0.5 ? target.ids[name] : junk(),
        );
        const query = queryNames
          .filter(() => rnd() < 0.7)
          .map((name) => `${name}=${encodeURIComponent(String(field()))}`)
          .join('&');
        const payload = method === 'get' || method === 'delete' ? undefined : body(media?.schema);
        // Now and then, JSON nested deeper than a recursive walk's stack (JSON.parse takes it).
        const raw =
          payload !== undefined && rnd() < 0.08
            ? DEEP
            : payload === undefined
              ? undefined
              : JSON.stringify(payload);
        const token = target.token(path);
        const res = await target.app.inject({
          method: method.toUpperCase() as 'GET',
          url: query ? `${url}?${query}` : url,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(payload === undefined
              ? {}
              : { 'content-type': mediaType.includes('json') ? mediaType : 'application/json' }),
          },
          ...(raw === undefined ? {} : { payload: raw }),
          remoteAddress: nextIp(),
        });
        requests++;
        const problem =
          res.statusCode >= 400 && res.headers['content-type']?.toString().includes('json')
            ? res.json<Record<string, unknown>>()
            : undefined;
        // SCIM answers in its own error format (RFC 7644 3.12: `status`, `scimType`, `detail`).
        const scim = path.startsWith('/api/v1/scim/');
        const coded =
          typeof problem?.['code'] === 'string' || (scim && typeof problem?.['status'] === 'string');
        if (res.statusCode >= 500 || (res.statusCode >= 400 && !coded))
          failures.push(
            `${method.toUpperCase()} ${url}${query ? `?${query.slice(0, 80)}` : ''} ` +
              `${raw?.slice(0, 120)} -> ${res.statusCode} ${res.body.slice(0, 160)}`,
          );
        if (res.statusCode === 401) await target.reauthenticate?.(path);
      }
    }
  }
  return { failures, requests };
}

describeEachDialect('every route on bad input', (h) => {
  let t: TestApp;
  let token = '';
  const ids: Record<string, string> = {};
  let users = 0;

  /** A new account, signed in, with a map: the fuzz may delete the account or end its sessions. */
  const newUser = async () => {
    const email = `fuzz-${++users}@example.com`;
    const password = 'Fuzz keeps a long secret';
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/accounts',
      payload: { email, password, firstName: 'Fuzz', lastName: 'Tester' },
      remoteAddress: nextIp(),
    });
    const session = await t.app.inject({
      method: 'POST',
      url: '/api/v1/sessions',
      payload: { email, password },
      remoteAddress: nextIp(),
    });
    token = session.json<{ token: string }>().token;
    const headers = { authorization: `Bearer ${token}` };
    const me = (await t.app.inject({ method: 'GET', url: '/api/v1/me', headers })).json<{
      id: string;
      orgs: { id: string }[];
    }>();
    const map = await t.app.inject({
      method: 'POST',
      url: '/api/v1/maps',
      headers,
      payload: { title: 'Fuzzed' },
      remoteAddress: nextIp(),
    });
    Object.assign(ids, { accountId: me.id, orgId: me.orgs[0]?.id ?? '', id: map.json<{ id: string }>().id });
  };

  beforeAll(async () => {
    t = await createTestApp({ databaseUrl: h.url });
    await newUser();
  });
  afterAll(() => t.close());

  it('answers 4xx with a code, never 5xx, whatever the body, the query and the path', async () => {
    const { failures, requests } = await fuzzRoutes(
      {
        app: t.app,
        token: () => token,
        ids,
        // A route ended the session or deleted the account (sign-out, account deletion...): a new user.
        reauthenticate: async () => {
          const me = await t.app.inject({
            method: 'GET',
            url: '/api/v1/me',
            headers: { authorization: `Bearer ${token}` },
          });
          if (me.statusCode === 401) await newUser();
        },
      },
      SEED + h.dialect.length,
    );
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(500);
  }, 300_000);
});

describeEachDialect(
  'the licensing routes on bad input, as operator, organisation admin and SCIM client',
  (h) => {
    let t: LicensingTestApp;
    const ids: Record<string, string> = { orgId: 'fuzz-org' };
    let tokens: { operator: string; admin: string; scim: string };

    beforeAll(async () => {
      t = await createLicensingTestApp(h.url);
      const operator = t.identity.user('ops@canopy.test', {}, true).token;
      const admin = t.identity.user('it-admin@fuzz.example', { [ids.orgId!]: 'admin' }).token;
      const issued = await call(t, operator)('POST', '/admin/licenses', {
        orgId: ids.orgId,
        products: ['teams'],
        seats: 5,
      });
      ids.id = String(issued.body?.id);
      const cred = await call(t, admin)('POST', `/orgs/${ids.orgId}/scim/credentials`, { licenseId: ids.id });
      tokens = { operator, admin, scim: String(cred.body?.secret) };
    });
    afterAll(() => t.close());

    it('answers 4xx with a code, never 5xx', async () => {
      const { failures, requests } = await fuzzRoutes(
        {
          app: t.app,
          token: (path) =>
            path.startsWith('/api/v1/admin/')
              ? tokens.operator
              : path.startsWith('/api/v1/scim/')
                ? tokens.scim
                : tokens.admin,
          ids,
        },
        SEED + 100 + h.dialect.length,
        (path) => /^\/api\/v1\/(admin|scim|licenses|orgs\/\{orgId\}\/(licen|scim|seat))/.test(path),
      );
      expect(failures).toEqual([]);
      expect(requests).toBeGreaterThan(100);
    }, 300_000);
  },
);
