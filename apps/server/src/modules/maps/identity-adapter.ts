/**
 * The maps/collab identity port wired to the identity module: the caller is `request.auth` (set by the auth
 * hook on routes classified `authenticated`), a browser WebSocket is authenticated by the session cookie, and
 * sharing finds accounts by email among the members of the caller's org.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Platform } from '../../platform/index.ts';
import { sessionCookieName } from '../../platform/http/auth.ts';
import { identityService } from '../identity/index.ts';
import { requestAuthIdentity, type MapsIdentity } from './ports.ts';

function cookieValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  for (const part of (headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export function identityModuleAdapter(platform: Platform): MapsIdentity {
  return {
    caller: (request) => requestAuthIdentity.caller(request),
    callerFromCookie: async (headers) => {
      const token =
        cookieValue(headers, sessionCookieName(true)) ?? cookieValue(headers, sessionCookieName(false));
      if (!token) return undefined;
      const principal = await identityService(platform).sessions.resolve(token, 'cookie');
      return principal ? { accountId: principal.accountId, tenantId: principal.homeTenantId } : undefined;
    },
    findAccountByEmail: async (tenantId, email) => {
      const identity = identityService(platform);
      const row = await identity.accounts.byEmail(email);
      if (!row) return undefined;
      return (await identity.sessions.orgRole(row.id, tenantId)) ? row.id : undefined;
    },
    emailOf: async (accountId) => {
      const identity = identityService(platform);
      const row = await identity.accounts.byId(accountId);
      // The email alone: `open` would unseal the names too.
      return row ? identity.accounts.openColumn(row, 'email_sealed', row.email_sealed) : undefined;
    },
  };
}
