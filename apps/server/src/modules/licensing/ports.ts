/**
 * What licensing needs from outside its folder, as small interfaces: who is calling (identity), signing keys
 * (platform/crypto), mail (platform/mail) and the org's admins (identity). `defaultPorts` in wiring.ts binds
 * them to what the platform offers; tests bind fakes.
 */
import type { FastifyRequest } from 'fastify';

export type OrgRole = 'admin' | 'member';

export interface LicensingCaller {
  accountId: string;
  /** Lower-cased. */
  email: string;
  /** Seats are assigned by email: only a verified email may claim them. */
  emailVerified: boolean;
  /** The platform operator (vendor) role: `/admin/*` routes. */
  operator: boolean;
  /** The caller's orgs and roles there. */
  orgs: ReadonlyMap<string, OrgRole>;
}

/**
 * Who is calling; undefined when the request is unauthenticated (401). `forget` drops what it remembers of an
 * account (its sessions were revoked, or its memberships changed), so the next request reads it anew.
 */
export type CallerResolver = ((request: FastifyRequest) => Promise<LicensingCaller | undefined>) & {
  forget?: (accountId: string) => void;
};

/**
 * The validation route's resolver. `known` answers at once, without awaiting, when it already knows this
 * request's caller (a recent request with the same credential): the route then serves a warm answer without a
 * single await. Undefined means "ask the resolver", never "unauthenticated".
 */
export type ValidationCallerResolver = CallerResolver & {
  known?: (request: FastifyRequest) => LicensingCaller | undefined;
};

export interface PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  use: 'sig';
  alg: 'EdDSA';
  status: 'active' | 'retired';
}

/** Ed25519 signatures with key ids; the shape of platform/crypto's `SigningKeys` for the 'license' purpose. */
export interface LicenseSigner {
  sign(purpose: 'license', data: Uint8Array): Promise<{ kid: string; signature: Uint8Array }>;
  jwks(purpose: 'license'): Promise<{ keys: PublicJwk[] }>;
}

export type LicensingMailTemplate = 'license_granted' | 'license_revoked' | 'seat_limit_reached';

export interface LicensingMail {
  to: string;
  template: LicensingMailTemplate;
  data: Record<string, string | number>;
}

export interface LicensingMailer {
  send(mail: LicensingMail): Promise<void>;
}

export interface OrgDirectory {
  /** Emails of the org's admins (seat-limit reports). */
  adminEmails(orgId: string): Promise<string[]>;
  /** Whether the org exists (operator issue). */
  orgExists(orgId: string): Promise<boolean>;
}

export interface LicensingPorts {
  caller: CallerResolver;
  /** The caller of `POST /licenses/validate` (by default `caller` remembered per bearer token for a few seconds). */
  validationCaller: ValidationCallerResolver;
  signer: LicenseSigner;
  mailer: LicensingMailer;
  orgs: OrgDirectory;
}
