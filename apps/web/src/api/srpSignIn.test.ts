import { srpRegister, srpServerFinish, srpServerStart, type SrpServerState } from '@canopy/sdk';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from './client.ts';
import { ApiError } from './problem.ts';

const EMAIL = 'Ada@Example.com';
const PASSWORD = 'correct horse battery';
const account = { id: 'a1', email: 'ada@example.com', firstName: 'Ada', lastName: 'L', emailVerified: true };

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json' },
  });

/**
 * A server that runs the real SRP-6a server half from packages/sdk over a registered verifier, with optional
 * MFA and optional misbehaviour, recording every request body.
 */
function srpServer(
  record: { salt: string; verifier: string },
  options: { mfa?: string; lieAboutM2?: boolean; noSrp?: boolean } = {},
) {
  const sent: { method: string; path: string; body: Record<string, unknown> | null }[] = [];
  const challenges = new Map<string, { state: SrpServerState; A: string }>();
  let issued = 0;
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const path = String(input).replace('/api/v1', '');
    const body = init?.body ? (JSON.parse(String(init.body)) as Record<string, unknown>) : null;
    sent.push({ method: init?.method ?? 'GET', path, body });
    if (path === '/sessions/srp/start') {
      if (options.noSrp) return json(404, { title: 'Not Found', status: 404, code: 'not_found' });
      const { B, state } = await srpServerStart({ ...record, email: String(body?.email).toLowerCase() });
      issued += 1;
      const challengeId = `c${issued}`;
      challenges.set(challengeId, { state, A: String(body?.A) });
      return json(200, { challengeId, salt: record.salt, B });
    }
    if (path === '/sessions/srp/finish') {
      const challenge = challenges.get(String(body?.challengeId));
      challenges.delete(String(body?.challengeId));
      if (!challenge) return json(401, { title: 'x', status: 401, code: 'invalid_credentials' });
      const result = await srpServerFinish(challenge.state, { A: challenge.A, M1: String(body?.M1) });
      if (!result.ok) return json(401, { title: 'x', status: 401, code: 'invalid_credentials' });
      if (options.mfa && body?.totp !== options.mfa) {
        return json(401, { title: 'x', status: 401, code: body?.totp ? 'invalid_totp' : 'mfa_required' });
      }
      const M2 = options.lieAboutM2 ? result.M2.replace(/^./, (c) => (c === '0' ? '1' : '0')) : result.M2;
      return json(201, { token: 't', expiresAt: '2030-01-01T00:00:00Z', account, csrfToken: 'csrf', M2 });
    }
    if (path === '/sessions') return json(201, { token: 't', expiresAt: 'x', account, csrfToken: 'csrf' });
    if (path === '/sessions/current') return new Response(null, { status: 204 });
    return json(500, { title: 'unexpected', status: 500, code: 'test' });
  };
  let csrfToken: string | null = null;
  const api = createApiClient({
    baseUrl: '/api/v1',
    fetch,
    csrf: { get: () => csrfToken, set: (t) => (csrfToken = t) },
    org: { get: () => null, set: () => undefined },
  });
  return { api, sent, csrf: () => csrfToken };
}

describe('SRP sign-in', () => {
  let record: { salt: string; verifier: string };
  beforeAll(async () => {
    record = await srpRegister(EMAIL, PASSWORD);
  });

  it('signs in with A and M1 only: the password is never sent', async () => {
    const { api, sent, csrf } = srpServer(record);
    const session = await api.sessions.signIn({ email: EMAIL, password: PASSWORD });
    expect(session.account.id).toBe('a1');
    expect(csrf()).toBe('csrf');
    expect(sent.map((s) => s.path)).toEqual(['/sessions/srp/start', '/sessions/srp/finish']);
    expect(JSON.stringify(sent)).not.toContain(PASSWORD);
    expect(sent[0]!.body).toEqual({ email: EMAIL, A: expect.stringMatching(/^[0-9a-f]{768}$/) });
    expect(sent[1]!.body).toEqual({ challengeId: 'c1', M1: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('answers a wrong password with the server’s invalid_credentials', async () => {
    const { api } = srpServer(record);
    const error = await api.sessions.signIn({ email: EMAIL, password: 'wrong password' }).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('invalid_credentials');
  });

  it('runs both steps again with the TOTP code after mfa_required (a challenge is used once)', async () => {
    const { api, sent } = srpServer(record, { mfa: '123456' });
    const first = await api.sessions.signIn({ email: EMAIL, password: PASSWORD }).catch((e) => e);
    expect((first as ApiError).code).toBe('mfa_required');
    await api.sessions.signIn({ email: EMAIL, password: PASSWORD, totp: '123456' });
    expect(sent.map((s) => s.path)).toHaveLength(4);
    expect(sent[3]!.body).toMatchObject({ challengeId: 'c2', totp: '123456' });
  });

  it('refuses a session whose M2 does not prove the server knows the verifier, and ends it', async () => {
    const { api, sent } = srpServer(record, { lieAboutM2: true });
    const error = await api.sessions.signIn({ email: EMAIL, password: PASSWORD }).catch((e) => e);
    expect((error as ApiError).code).toBe('srp_verification_failed');
    expect(sent.at(-1)).toMatchObject({ method: 'DELETE', path: '/sessions/current' });
  });

  it('falls back to the password form of POST /sessions when the server offers no SRP', async () => {
    const { api, sent } = srpServer(record, { noSrp: true });
    await api.sessions.signIn({ email: EMAIL, password: PASSWORD });
    expect(sent.map((s) => s.path)).toEqual(['/sessions/srp/start', '/sessions']);
    expect(sent[1]!.body).toEqual({ email: EMAIL, password: PASSWORD });
  });
});
