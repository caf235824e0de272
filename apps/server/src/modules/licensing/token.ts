/**
 * The licence token: a compact JWS (RFC 7515) signed with EdDSA (Ed25519). Clients verify it offline against
 * `GET /licenses/keys` (packages/sdk/src/licensing) and may use the product until `exp` (the policy's offline
 * grace, never past the licence's own expiry).
 *
 * Every answer carries the client's nonce, so every answer is signed anew; a signature by the platform key
 * costs a database read and an unseal each time. So each node signs tokens with its own in-memory Ed25519 key,
 * and the platform's active 'license' key certifies that key for a short while: the token header carries
 * `kid` (the node key's id) and `dlg`, a compact JWS by the platform key over `{sub: kid, x: public key, iat,
 * exp}`. A verifier checks `dlg` against the JWKS, then the token against the key it certifies. The node key
 * never leaves the process; a platform key rotation reaches new tokens with the next delegation.
 */
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type { Clock } from '../../platform/clock.ts';
import type { LicenseTokenClaims } from '@canopy/sdk';
import type { LicenseSigner } from './ports.ts';

export const LICENSE_TOKEN_TYPE = 'canopy-license+jwt';
export const DELEGATION_TYPE = 'canopy-license-delegation+jwt';
/** How long a delegation certifies a node key, and how often it is renewed. */
export const DELEGATION_LIFETIME_S = 3_600;
export const DELEGATION_RENEW_AFTER_S = 600;

/** The claims are the SDK's: clients verify exactly what the server signs. */
export type { LicenseTokenClaims };

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

  /** Signs `claims` as a JWS of type `typ` with the platform's active key. */
  async issue(claims: object, typ = LICENSE_TOKEN_TYPE): Promise<string> {
    const payload = b64url(JSON.stringify(claims));
    for (let attempt = 0; attempt < 3; attempt++) {
      const kid = await this.activeKid();
      const input = `${b64url(JSON.stringify({ alg: 'EdDSA', typ, kid }))}.${payload}`;
      const signed = await this.signer.sign('license', Buffer.from(input));
      if (signed.kid === kid) return `${input}.${b64url(signed.signature)}`;
      this.kid = signed.kid;
    }
    throw new Error('the licence signing key kept changing while signing');
  }
}

/** Signs licence tokens with a node key that the platform key certifies (see the top of this file). */
export class DelegatedTokenSigner {
  private readonly nodeKid = `node_${randomBytes(12).toString('base64url')}`;
  private readonly privateKey: KeyObject;
  private readonly publicX: string;
  private delegation: { jws: string; iat: number; exp: number } | undefined;
  private renewing: Promise<{ jws: string; iat: number; exp: number }> | undefined;

  constructor(
    private readonly platform: LicenseTokenIssuer,
    private readonly clock: Clock,
  ) {
    const pair = generateKeyPairSync('ed25519');
    this.privateKey = pair.privateKey;
    this.publicX = (pair.publicKey.export({ format: 'jwk' }) as { x: string }).x;
  }

  /** Drops the current delegation: the next token asks the platform key for a fresh one (after a rotation). */
  renew(): void {
    this.delegation = undefined;
  }

  private async currentDelegation(now: number) {
    const d = this.delegation;
    // (A clock that moved back, before the delegation began, needs a new one too.)
    if (d && now >= d.iat && now - d.iat < DELEGATION_RENEW_AFTER_S) return d;
    this.renewing ??= this.platform
      .issue(
        { sub: this.nodeKid, x: this.publicX, iat: now, exp: now + DELEGATION_LIFETIME_S },
        DELEGATION_TYPE,
      )
      .then((jws) => (this.delegation = { jws, iat: now, exp: now + DELEGATION_LIFETIME_S }))
      .finally(() => (this.renewing = undefined));
    // While a renewal runs, a delegation that is still valid keeps serving.
    if (d && now >= d.iat && now < d.exp - 60) return d;
    return this.renewing;
  }

  async issue(claims: LicenseTokenClaims): Promise<string> {
    const now = Math.floor(this.clock.now().getTime() / 1000);
    const delegation = await this.currentDelegation(now);
    const header = { alg: 'EdDSA', typ: LICENSE_TOKEN_TYPE, kid: this.nodeKid, dlg: delegation.jws };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    return `${input}.${b64url(sign(null, Buffer.from(input), this.privateKey))}`;
  }
}
