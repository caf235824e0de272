/**
 * Enumeration: sign-up, login, SRP start and forgot-password must not tell whether an email has an account,
 * by status, by shape or (within a generous ratio: no wall-clock limits) by time. The measured medians are
 * printed for the README.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ManualClock } from '../../platform/clock.ts';
import { describeEachDialect } from '../../platform/db/testing.ts';
import { createTestApp, type TestApp } from '../../test/harness.ts';
import { http, type Http } from './testing.ts';

const ROUNDS = 6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
/** The shape of an answer: its status, its keys and the types of its values, without per-request values. */
function shape(res: { statusCode: number; json: () => unknown }) {
  const body = res.json() as Record<string, unknown>;
  const keys = Object.keys(body)
    .filter((k) => k !== 'requestId' && k !== 'instance')
    .sort();
  return {
    status: res.statusCode,
    keys,
    types: keys.map((k) => typeof body[k]),
    code: body.code,
    detail: body.detail,
  };
}

describeEachDialect('enumeration: known and unknown emails look alike', (h) => {
  let t: TestApp;
  let api: Http;
  // Moved an hour per round, so that the per-email rate limits (5 an hour) do not end the measurement.
  const clock = new ManualClock(Date.now());
  let ip = 0;
  const nextIp = () => `203.0.113.${(ip = (ip % 250) + 1)}`;
  const known = 'known@example.com';
  const password = 'a perfectly fine password';

  beforeAll(async () => {
    t = await createTestApp({ databaseUrl: h.url, clock });
    api = http(t.app);
    expect(
      (
        await api.post(
          '/accounts',
          { email: known, password, firstName: 'Kim', lastName: 'Known' },
          {},
          nextIp(),
        )
      ).statusCode,
    ).toBe(201);
  });
  afterAll(() => t.close());

  /** Calls `send` alternately for the known and an unknown email; checks shapes; returns the median times. */
  async function compare(what: string, send: (email: string, round: number) => ReturnType<Http['post']>) {
    const times = { known: [] as number[], unknown: [] as number[] };
    let knownShape: ReturnType<typeof shape> | undefined;
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of round % 2 ? (['unknown', 'known'] as const) : (['known', 'unknown'] as const)) {
        const email = kind === 'known' ? known : `nobody-${round}@example.com`;
        const started = performance.now();
        const res = await send(email, round);
        times[kind].push(performance.now() - started);
        const s = shape(res);
        knownShape ??= s;
        expect(s, `${what}: ${kind} answer differs`).toEqual(knownShape);
      }
      clock.advance(3_600_000);
    }
    const k = median(times.known);
    const u = median(times.unknown);
    console.log(
      `[${h.dialect}] ${what}: median known ${k.toFixed(1)} ms, unknown ${u.toFixed(1)} ms, ratio ${(k / u).toFixed(2)}`,
    );
    // Generous: a real difference (a skipped password hash) is 10x or more.
    expect(k / u).toBeGreaterThan(1 / 3);
    expect(k / u).toBeLessThan(3);
    return knownShape;
  }

  it('sign-up: 201 with the same shape, whether or not the email is taken', async () => {
    const s = await compare('sign-up', (email, round) =>
      api.post(
        '/accounts',
        { email: round % 2 ? email.toUpperCase() : email, password, firstName: 'Eve', lastName: 'Probe' },
        {},
        nextIp(),
      ),
    );
    expect(s?.status).toBe(201);
  });

  it('login: 401 invalid_credentials for a wrong password and for an unknown email alike', async () => {
    const s = await compare('login', (email) =>
      api.post('/sessions', { email, password: 'wrong password here' }, {}, nextIp()),
    );
    expect(s).toMatchObject({ status: 401, code: 'invalid_credentials' });
  });

  it('SRP start: a salt and B of the same form, and a stable salt, for unknown emails too', async () => {
    const A = 'ab'.repeat(384);
    const s = await compare('srp start', (email) =>
      api.post('/sessions/srp/start', { email, A }, {}, nextIp()),
    );
    expect(s?.status).toBe(200);
    for (const email of [known, 'nobody-x@example.com']) {
      const one = (await api.post('/sessions/srp/start', { email, A }, {}, nextIp())).json<{
        salt: string;
        B: string;
      }>();
      const two = (await api.post('/sessions/srp/start', { email, A }, {}, nextIp())).json<{
        salt: string;
        B: string;
      }>();
      expect(one.salt).toMatch(/^[0-9a-f]{64}$/);
      expect(one.B).toMatch(/^[0-9a-f]{768}$/);
      expect(two.salt).toBe(one.salt);
      expect(two.B).not.toBe(one.B);
    }
  });

  it('forgot password: 202 always', async () => {
    const s = await compare('forgot password', (email) =>
      api.post('/password/forgot', { email }, {}, nextIp()),
    );
    expect(s?.status).toBe(202);
  });
});
