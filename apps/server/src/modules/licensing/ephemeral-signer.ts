/**
 * An Ed25519 licence signer that keeps its keys in memory, for tests (and embedders without platform/crypto).
 * It rotates like platform/crypto's SigningKeys (the old key stays in the JWKS as 'retired') and can also drop
 * a key; its keys die with the process, so tokens it signed stop verifying after a restart.
 */
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type { LicenseSigner, PublicJwk } from './ports.ts';

export class EphemeralLicenseSigner implements LicenseSigner {
  private readonly keys: { kid: string; privateKey: KeyObject; x: string; status: 'active' | 'retired' }[] =
    [];

  constructor() {
    this.rotate();
  }

  rotate(): string {
    for (const k of this.keys) k.status = 'retired';
    const pair = generateKeyPairSync('ed25519');
    const x = (pair.publicKey.export({ format: 'jwk' }) as { x: string }).x;
    const kid = `license_${randomBytes(12).toString('base64url')}`;
    this.keys.unshift({ kid, privateKey: pair.privateKey, x, status: 'active' });
    return kid;
  }

  /** Forgets a key entirely (as an operator would drop a compromised one from the JWKS). */
  drop(kid: string): void {
    const i = this.keys.findIndex((k) => k.kid === kid);
    if (i >= 0) this.keys.splice(i, 1);
  }

  async sign(_purpose: 'license', data: Uint8Array) {
    const active = this.keys.find((k) => k.status === 'active');
    if (!active) throw new Error('no active licence key');
    return { kid: active.kid, signature: sign(null, data, active.privateKey) };
  }

  async jwks(_purpose: 'license'): Promise<{ keys: PublicJwk[] }> {
    return {
      keys: this.keys.map((k) => ({
        kty: 'OKP',
        crv: 'Ed25519',
        x: k.x,
        kid: k.kid,
        use: 'sig',
        alg: 'EdDSA',
        status: k.status,
      })),
    };
  }
}
