/**
 * A stand-in identity for tests and the collab crash/bench servers, until the identity module lands:
 * the caller is read from `authorization: Test <accountId>@<tenantId>` (HTTP) and the same string is the
 * "email" of that account in its tenant. Never wired by buildApp's defaults.
 */
import type { MapsIdentity } from './ports.ts';

export const testAuthorization = (accountId: string, tenantId: string) => `Test ${accountId}@${tenantId}`;

function parse(value: string | undefined) {
  const m = /^Test ([\w-]+)@([\w-]+)$/.exec(value ?? '');
  return m?.[1] && m[2] ? { accountId: m[1], tenantId: m[2] } : undefined;
}

export const testIdentity: MapsIdentity = {
  caller: async (request) => parse(request.headers.authorization),
  callerFromCookie: async (headers) => {
    const m = /(?:^|;\s*)test_session=([^;]+)/.exec(headers.cookie ?? '');
    return parse(m?.[1] ? `Test ${decodeURIComponent(m[1])}` : undefined);
  },
  findAccountByEmail: async (tenantId, email) => {
    const [account, tenant] = email.split('@');
    return tenant === tenantId && account ? account : undefined;
  },
  emailOf: async (accountId) => `${accountId}@test`,
};
