/**
 * HTTP helpers for browser tests: set up accounts and maps through the public API (bearer tokens), so a
 * scenario spends its browser time only on what it is about.
 */
import type { CanopyServer } from './server.ts';
import { tokenFrom } from './mailbox.ts';

export interface ApiCaller {
  /** Sends JSON (or nothing) to /api/v1<path>; throws with the problem+json on any status other than `expect`. */
  call<T = unknown>(method: string, path: string, body?: unknown, expect?: number): Promise<T>;
  readonly token: string | undefined;
}

export function api(server: Pick<CanopyServer, 'url'>, token?: string): ApiCaller {
  return {
    token,
    async call<T>(method: string, path: string, body?: unknown, expect?: number): Promise<T> {
      const res = await fetch(`${server.url}/api/v1${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (expect !== undefined ? res.status !== expect : !res.ok) {
        throw new Error(`${method} ${path} → ${res.status}: ${text}`);
      }
      return (text && /json/.test(res.headers.get('content-type') ?? '') ? JSON.parse(text) : text) as T;
    },
  };
}

export interface TestAccount {
  id: string;
  email: string;
  password: string;
  firstName: string;
  lastName: string;
  /** A bearer session made with the password form of POST /sessions. */
  api: ApiCaller;
}

/** "Ada Lovelace" → first and last name (one word: the last name repeats it, the API needs both). */
function splitName(name: string): { firstName: string; lastName: string } {
  const [first = name, ...rest] = name.trim().split(/\s+/);
  return { firstName: first, lastName: rest.join(' ') || first };
}

/** Signs up through the API, opens the verification token from the mailbox, and signs in with the password. */
export async function signUpAndVerify(
  server: CanopyServer,
  email: string,
  password: string,
  name: string,
): Promise<TestAccount> {
  const anonymous = api(server);
  const names = splitName(name);
  const account = await anonymous.call<{ id: string }>(
    'POST',
    '/accounts',
    { email, password, ...names },
    201,
  );
  const mail = await server.mailbox.take(email, /confirm|verif/i);
  await anonymous.call('POST', '/accounts/verify', { token: tokenFrom(mail) }, 200);
  const session = await anonymous.call<{ token: string }>('POST', '/sessions', { email, password }, 201);
  return { id: account.id, email, password, ...names, api: api(server, session.token) };
}

/** A unique address per call, so tests sharing a server never collide. */
let counter = 0;
export function uniqueEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}@example.test`;
}
