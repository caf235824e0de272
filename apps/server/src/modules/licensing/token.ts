/**
 * The licence token: a compact JWS (RFC 7515) signed with EdDSA (Ed25519) by the platform's active 'license'
 * key, `kid` in the header. Clients verify it offline against `GET /licenses/keys` (packages/sdk/src/licensing)
 * and may use the product until `exp` (the policy's offline grace, never past the licence's own expiry).
 */
import type { LicenseSigner } from './ports.ts';

export const LICENSE_TOKEN_TYPE = 'canopy-license+jwt';

export interface LicenseTokenClaims {
  iss: string;
  sub: string;
  email: string;
  lic: string;
  org: string;
  product: string;
  products: string[];
  seat: 'named' | 'floating';
  /** The machine fingerprint the token is bound to, when the client sent one. */
  fp?: string;
  /** The client's nonce, so a replayed answer can be told from a fresh one. */
  nonce?: string;
  /** The licence's expiry (seconds), when it has one. */
  lexp?: number;
  iat: number;
  exp: number;
}

const b64url = (data: Uint8Array | string) => Buffer.from(data).toString('base64url');

/**
 * Signs licence tokens. The signing port picks the active key when it signs, but the JWS header (part of the
 * signed input) must already name that key: so the issuer remembers the last kid it saw, and signs again in the
 * rare case that a rotation changed it in between.
 */
export class LicenseTokenIssuer {
  private kid: string | undefined;

  constructor(private readonly signer: LicenseSigner) {}

  private async activeKid(): Promise<string> {
    if (this.kid) return this.kid;
    const jwks = await this.signer.jwks('license');
    const active = jwks.keys.find((k) => k.status === 'active') ?? jwks.keys[0];
    if (!active) throw new Error('no licence signing key');
    this.kid = active.kid;
    return active.kid;
  }

  async issue(claims: LicenseTokenClaims): Promise<string> {
    const payload = b64url(JSON.stringify(claims));
    for (let attempt = 0; attempt < 3; attempt++) {
      const kid = await this.activeKid();
      const input = `${b64url(JSON.stringify({ alg: 'EdDSA', typ: LICENSE_TOKEN_TYPE, kid }))}.${payload}`;
      const signed = await this.signer.sign('license', Buffer.from(input));
      if (signed.kid === kid) return `${input}.${b64url(signed.signature)}`;
      this.kid = signed.kid;
    }
    throw new Error('the licence signing key kept changing while signing');
  }
}
