/**
 * Sign-in with SRP-6a (API.md, "Accounts and sessions"): the password never leaves the browser; the server
 * proves with M2 that it knows the verifier. A challenge is used once, so a retry with the MFA code runs both
 * steps again. When the server offers no SRP (404/405/501 on the start step, e.g. an older server), the
 * password form of `POST /sessions` is used instead, so sign-in still works.
 */
import { srpClientFinish, srpClientStart, SrpError, verifyM2 } from '@canopy/sdk';
import type { Method } from './client.ts';
import { ApiError } from './problem.ts';
import type { Session } from './types.ts';

type Request = <T>(method: Method, path: string, body?: unknown) => Promise<T>;

const NOT_OFFERED = new Set([404, 405, 501]);

export async function signInWithSrp(
  request: Request,
  input: { email: string; password: string; totp?: string },
): Promise<Session> {
  const state = await srpClientStart(input.email, input.password);
  let challenge: { challengeId: string; salt: string; B: string };
  try {
    challenge = await request('POST', '/sessions/srp/start', { email: input.email, A: state.A });
  } catch (error) {
    if (error instanceof ApiError && NOT_OFFERED.has(error.status) && error.code !== 'unauthenticated') {
      return request<Session>('POST', '/sessions', input);
    }
    throw error;
  }
  let proof;
  try {
    proof = await srpClientFinish(state, challenge);
  } catch (error) {
    // A malformed or unsafe salt or B: not our server, or a broken one. Never send a proof for it.
    if (error instanceof SrpError)
      throw srpFailure(`The server's sign-in answer was not valid (${error.code}).`);
    throw error;
  }
  const session = await request<Session & { M2: string }>('POST', '/sessions/srp/finish', {
    challengeId: challenge.challengeId,
    M1: proof.M1,
    ...(input.totp ? { totp: input.totp } : {}),
  });
  if (!verifyM2(proof, session.M2)) {
    // The session was made by a server that does not know our verifier: drop it rather than trust it.
    await request('DELETE', '/sessions/current').catch(() => undefined);
    throw srpFailure('The server could not prove that it knows your account. You were not signed in.');
  }
  return session;
}

function srpFailure(detail: string): ApiError {
  return new ApiError({
    type: 'about:blank',
    title: 'Sign-in could not be completed safely',
    status: 0,
    code: 'srp_verification_failed',
    detail,
  });
}
