/**
 * What the maps module needs from modules and platform parts that are being built beside it. Each is a small
 * interface so the module can be wired to the real thing when it lands (see README.md, "Wiring").
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyRequest } from 'fastify';

/** The authenticated caller of a request: an account acting inside one tenant (org). */
export interface Caller {
  accountId: string;
  tenantId: string;
}

/** Identity as the maps and collab modules see it. */
export interface MapsIdentity {
  /** Who made this HTTP request (bearer token or session cookie), or undefined when unauthenticated. */
  caller(request: FastifyRequest): Promise<Caller | undefined>;
  /** Who holds the session cookie in these upgrade headers (the browser's WebSocket), if anyone. */
  callerFromCookie?(headers: IncomingHttpHeaders): Promise<Caller | undefined>;
  /** The account of this tenant with this email (for sharing), or undefined. */
  findAccountByEmail(tenantId: string, email: string): Promise<string | undefined>;
  /** The email of an account (a map's owner, for an org admin), or undefined if unknown or not wired. */
  emailOf?(accountId: string): Promise<string | undefined>;
}

/** Where a sealed value sits: the AAD of the envelope binds it to this place. */
export interface SealRef {
  table: string;
  id: string;
  column: string;
}

/** Envelope encryption with the tenant's key (platform/crypto's `cipher` has this shape). */
export interface ContentSealer {
  seal(tenantId: string, ref: SealRef, plaintext: Uint8Array): Promise<Uint8Array>;
  /** `seal` as a synchronous function under the key active now: for sealing inside a synchronous transaction. */
  sealerFor(tenantId: string, ref: SealRef): Promise<(plaintext: Uint8Array) => Uint8Array>;
  open(tenantId: string, ref: SealRef, sealed: Uint8Array): Promise<Uint8Array>;
}

/**
 * Reads `request.auth` as set by the identity module's auth hook. Until that hook exists every request is
 * unauthenticated here, which is the safe failure.
 */
export const requestAuthIdentity: MapsIdentity = {
  caller: async (request) => {
    const auth = (request as unknown as { auth?: unknown }).auth;
    if (typeof auth !== 'object' || auth === null) return undefined;
    const a = auth as {
      accountId?: unknown;
      tenantId?: unknown;
      orgId?: unknown;
      account?: { id?: unknown };
    };
    const accountId = typeof a.accountId === 'string' ? a.accountId : a.account?.id;
    const tenantId = typeof a.tenantId === 'string' ? a.tenantId : a.orgId;
    if (typeof accountId !== 'string' || typeof tenantId !== 'string') return undefined;
    return { accountId, tenantId };
  },
  findAccountByEmail: async () => undefined,
};
