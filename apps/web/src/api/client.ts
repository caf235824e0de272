import type { MapDocument } from '@canopy/model';
import { ApiError, networkProblem, problemFrom } from './problem.ts';
import type { Account, MapSummary, Me, Session, SessionInfo, TotpEnrollment } from './types.ts';

/** Where the CSRF token that login returns is kept between page loads and tabs (like the session cookie). */
export interface CsrfTokenStore {
  get(): string | null;
  set(token: string | null): void;
}

export interface ApiClientOptions {
  /** `/api/v1` when served by the Canopy server (same origin). */
  readonly baseUrl: string;
  readonly fetch?: typeof fetch;
  readonly csrf?: CsrfTokenStore;
}

/** Header that carries the CSRF token, both in the login response and on state-changing requests. */
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type ApiClient = ReturnType<typeof createApiClient>;

/**
 * A small typed client for the REST paths of API.md. The browser authenticates with the session cookie, so
 * requests go with credentials, and a state-changing request carries the CSRF token login returned.
 * Errors are thrown as ApiError holding the problem+json the server answered.
 */
export function createApiClient(options: ApiClientOptions) {
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const csrf = options.csrf ?? localStorageCsrf();

  async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const token = csrf.get();
    if (token && !SAFE_METHODS.has(method)) headers[CSRF_HEADER] = token;
    let response: Response;
    try {
      response = await doFetch(`${options.baseUrl}${path}`, {
        method,
        headers,
        credentials: 'same-origin',
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      throw new ApiError(networkProblem(error));
    }
    if (!response.ok) {
      // The CSRF token is kept on a 401: it belongs to the session, a new sign-in replaces it, and one endpoint's
      // refusal should not break the others.
      throw new ApiError(await problemFrom(response));
    }
    const fromHeader = response.headers.get(CSRF_HEADER);
    if (fromHeader) csrf.set(fromHeader);
    if (response.status === 204 || response.headers.get('content-length') === '0') return undefined as T;
    const type = response.headers.get('content-type') ?? '';
    return (type.includes('json') ? await response.json() : await response.text()) as T;
  }

  return {
    request,
    accounts: {
      create: (input: { email: string; password: string; firstName: string; lastName: string }) =>
        request<Account>('POST', '/accounts', input),
      verify: (token: string) => request<unknown>('POST', '/accounts/verify', { token }),
    },
    sessions: {
      create: async (input: { email: string; password: string; totp?: string }) => {
        const session = await request<Session>('POST', '/sessions', input);
        if (session.csrfToken) csrf.set(session.csrfToken);
        return session;
      },
      deleteCurrent: async () => {
        await request<void>('DELETE', '/sessions/current');
        csrf.set(null);
      },
      list: () => request<SessionInfo[]>('GET', '/sessions'),
      revoke: (id: string) => request<void>('DELETE', `/sessions/${encodeURIComponent(id)}`),
    },
    password: {
      forgot: (email: string) => request<unknown>('POST', '/password/forgot', { email }),
      reset: (token: string, password: string) =>
        request<unknown>('POST', '/password/reset', { token, password }),
    },
    me: {
      get: () => request<Me>('GET', '/me'),
      enrollTotp: () => request<TotpEnrollment>('POST', '/me/mfa/totp'),
      confirmTotp: (code: string) =>
        request<{ recoveryCodes: string[] }>('POST', '/me/mfa/totp/confirm', { code }),
    },
    maps: {
      list: () => request<MapSummary[] | { items: MapSummary[] }>('GET', '/maps').then(itemsOf),
      create: (title: string) => request<MapSummary>('POST', '/maps', { title }),
      get: (id: string) => request<MapSummary>('GET', `/maps/${encodeURIComponent(id)}`),
      document: (id: string) => request<MapDocument>('GET', `/maps/${encodeURIComponent(id)}/document`),
      remove: (id: string) => request<void>('DELETE', `/maps/${encodeURIComponent(id)}`),
    },
  };
}

/** `GET /maps` may answer with a bare array or a page object; the app wants the array. */
function itemsOf<T>(body: T[] | { items: T[] }): T[] {
  return Array.isArray(body) ? body : body.items;
}

/**
 * localStorage, so that a second tab of the same session can make changes too. The token is not a secret from
 * scripts on our own origin (they could make the requests anyway); it only proves a request was not forged by
 * another site, which cannot read our storage.
 */
function localStorageCsrf(): CsrfTokenStore {
  const key = 'canopy.csrf';
  return {
    get: () => (typeof localStorage === 'undefined' ? null : localStorage.getItem(key)),
    set: (token) => {
      if (typeof localStorage === 'undefined') return;
      if (token) localStorage.setItem(key, token);
      else localStorage.removeItem(key);
    },
  };
}
