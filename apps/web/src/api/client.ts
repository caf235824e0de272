import { ApiError, networkProblem, problemFrom } from './problem.ts';
import { mapsApi } from './maps.ts';
import { signInWithSrp } from './srpSignIn.ts';
import type {
  Account,
  Invitation,
  Me,
  Org,
  OrgMember,
  OrgStorage,
  Session,
  SessionInfo,
  SignUpInput,
  TotpEnrollment,
} from './types.ts';
import type { UploadTransport } from './upload.ts';

/** Where the CSRF token that login returns is kept between page loads and tabs (like the session cookie). */
export interface CsrfTokenStore {
  get(): string | null;
  set(token: string | null): void;
}

/** The org the person acts in (sent as `x-canopy-org`); null means their home org. */
export interface OrgStore {
  get(): string | null;
  set(orgId: string | null): void;
}

export interface ApiClientOptions {
  /** `/api/v1` when served by the Canopy server (same origin). */
  readonly baseUrl: string;
  readonly fetch?: typeof fetch;
  readonly csrf?: CsrfTokenStore;
  readonly org?: OrgStore;
  /** Sends imports with upload progress; XMLHttpRequest in the browser, a fake in tests. */
  readonly upload?: UploadTransport;
}

/** Header that carries the CSRF token, both in the login response and on state-changing requests. */
export const CSRF_HEADER = 'x-csrf-token';
/** Header that picks the org a request acts in (API: the home org when absent). */
export const ORG_HEADER = 'x-canopy-org';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type ApiClient = ReturnType<typeof createApiClient>;

/**
 * A small typed client for the REST paths of API.md. The browser authenticates with the session cookie, so
 * requests go with credentials, and a state-changing request carries the CSRF token login returned.
 * Errors are thrown as ApiError holding the problem+json the server answered.
 */
export function createApiClient(options: ApiClientOptions) {
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const csrf = options.csrf ?? localStorageCsrf();
  const org = options.org ?? localStorageOrg();

  /** The headers every request carries: CSRF on state-changing ones, and the chosen org. */
  function headersFor(method: Method): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    const token = csrf.get();
    if (token && !SAFE_METHODS.has(method)) headers[CSRF_HEADER] = token;
    const orgId = org.get();
    if (orgId) headers[ORG_HEADER] = orgId;
    return headers;
  }

  async function send(method: Method, path: string, body?: unknown): Promise<Response> {
    const headers = headersFor(method);
    if (body !== undefined) headers['content-type'] = 'application/json';
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
    return response;
  }

  async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const response = await send(method, path, body);
    if (response.status === 204 || response.headers.get('content-length') === '0') return undefined as T;
    const type = response.headers.get('content-type') ?? '';
    return (type.includes('json') ? await response.json() : await response.text()) as T;
  }

  const keepSession = (session: Session) => {
    if (session.csrfToken) csrf.set(session.csrfToken);
    // A new sign-in starts in the person's home org.
    org.set(null);
    return session;
  };

  return {
    request,
    baseUrl: options.baseUrl,
    org,
    accounts: {
      create: (input: SignUpInput) => request<Account>('POST', '/accounts', input),
      verify: (token: string) => request<unknown>('POST', '/accounts/verify', { token }),
      setupOperator: (token: string, input: SignUpInput) =>
        request<Account>('POST', '/setup/operator', { token, ...input }),
    },
    sessions: {
      /** The password form of `POST /sessions` (the fallback when the server offers no SRP). */
      create: async (input: { email: string; password: string; totp?: string }) =>
        keepSession(await request<Session>('POST', '/sessions', input)),
      /** SRP-6a sign-in (the password never leaves the browser); see srpSignIn.ts. */
      signIn: async (input: { email: string; password: string; totp?: string }) =>
        keepSession(await signInWithSrp(request, input)),
      reauthenticate: (input: { password: string; totp?: string }) =>
        request<{ reauthenticatedUntil: string }>('POST', '/sessions/current/reauth', input),
      deleteCurrent: async () => {
        try {
          await request<void>('DELETE', '/sessions/current');
        } finally {
          csrf.set(null);
          org.set(null);
        }
      },
      list: () => request<SessionInfo[] | { items: SessionInfo[] }>('GET', '/sessions').then(itemsOf),
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
      disableTotp: () => request<void>('DELETE', '/me/mfa/totp'),
    },
    orgs: {
      /** A new org with the caller as its admin. */
      create: (name: string) => request<Org>('POST', '/orgs', { name }),
      members: (orgId: string) => request<OrgMember[]>('GET', `/orgs/${encodeURIComponent(orgId)}/members`),
      /** Org admins only (403 otherwise). */
      storage: (orgId: string) => request<OrgStorage>('GET', `/orgs/${encodeURIComponent(orgId)}/storage`),
      invite: (orgId: string, email: string, role: 'admin' | 'member') =>
        request<Invitation>('POST', `/orgs/${encodeURIComponent(orgId)}/invitations`, { email, role }),
      acceptInvitation: (token: string) => request<Org>('POST', '/invitations/accept', { token }),
    },
    maps: mapsApi({ baseUrl: options.baseUrl, request, send, headersFor, upload: options.upload }),
  };
}

/** A list may come as a bare array or a page object (`{items}`); the app wants the array. */
export function itemsOf<T>(body: T[] | { items: T[] }): T[] {
  return Array.isArray(body) ? body : body.items;
}

function storageSlot(key: string) {
  return {
    get: () => (typeof localStorage === 'undefined' ? null : localStorage.getItem(key)),
    set: (value: string | null) => {
      if (typeof localStorage === 'undefined') return;
      if (value) localStorage.setItem(key, value);
      else localStorage.removeItem(key);
    },
  };
}

/**
 * localStorage, so that a second tab of the same session can make changes too. The token is not a secret from
 * scripts on our own origin (they could make the requests anyway); it only proves a request was not forged by
 * another site, which cannot read our storage.
 */
function localStorageCsrf(): CsrfTokenStore {
  return storageSlot('canopy.csrf');
}

function localStorageOrg(): OrgStore {
  return storageSlot('canopy.org');
}
