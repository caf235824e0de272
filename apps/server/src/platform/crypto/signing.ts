/**
 * Platform signing keys, by purpose: Ed25519 for licence tokens and the template feed (verifiable offline with
 * the JWKS view), HMAC-SHA256 secrets for outbound webhooks. Each key has a key id (`kid`) that goes with every
 * signature; rotation makes a new key active and keeps the old ones verifiable ('retired'). Private keys and
 * secrets are stored sealed under the system tenant's data key; public keys are stored in the clear.
 */
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign as edSign,
  timingSafeEqual,
  verify as edVerify,
} from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/connect.ts';
import { withSystemContext } from '../db/tenant.ts';
import type { Cipher } from './cipher.ts';
import type { SigningKeysTable } from './tables.ts';
import { SYSTEM_TENANT } from './tenant-keys.ts';

export type SigningPurpose = 'license' | 'template_feed' | 'webhook';

const ALGORITHM: Record<SigningPurpose, SigningKeysTable['algorithm']> = {
  license: 'Ed25519',
  template_feed: 'Ed25519',
  webhook: 'HS256',
};

export interface Jwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  use: 'sig';
  alg: 'EdDSA';
  /** Not part of RFC 7517: whether new signatures still use this key. */
  status: 'active' | 'retired';
}

export interface Jwks {
  keys: Jwk[];
}

const ref = (kid: string) => ({ table: 'signing_keys', id: kid, column: 'private_sealed' });

export class SigningKeys {
  constructor(
    private readonly database: Database,
    private readonly cipher: Cipher,
    private readonly clock: Clock,
  ) {}

  private rows(purpose: SigningPurpose) {
    return withSystemContext(this.database, 'signing keys are platform-wide', (trx) =>
      trx
        .selectFrom('signing_keys')
        .selectAll()
        .where('purpose', '=', purpose)
        .orderBy('created_at', 'desc')
        .orderBy('kid', 'desc')
        .execute(),
    );
  }

  private async create(purpose: SigningPurpose): Promise<SigningKeysTable> {
    const algorithm = ALGORITHM[purpose];
    const kid = `${purpose}_${randomBytes(12).toString('base64url')}`;
    let secret: Buffer;
    let publicKey: string | null = null;
    if (algorithm === 'Ed25519') {
      const pair = generateKeyPairSync('ed25519');
      secret = pair.privateKey.export({ format: 'der', type: 'pkcs8' });
      publicKey = (pair.publicKey.export({ format: 'jwk' }) as { x: string }).x;
    } else {
      secret = randomBytes(32);
    }
    const row: SigningKeysTable = {
      kid,
      purpose,
      algorithm,
      public_key: publicKey,
      private_sealed: await this.cipher.seal(SYSTEM_TENANT, ref(kid), secret),
      state: 'active',
      created_at: this.clock.now().getTime(),
      retired_at: null,
    };
    await withSystemContext(this.database, 'signing keys are platform-wide', (trx) =>
      trx.insertInto('signing_keys').values(row).execute(),
    );
    return row;
  }

  /** The key new signatures use, created on first use. */
  async activeKey(purpose: SigningPurpose): Promise<SigningKeysTable> {
    const active = (await this.rows(purpose)).find((r) => r.state === 'active');
    return active ?? (await this.create(purpose));
  }

  /** Makes a fresh key active; the previous ones stay verifiable. Returns the new kid. */
  async rotate(purpose: SigningPurpose): Promise<string> {
    const fresh = await this.create(purpose);
    await withSystemContext(this.database, 'signing key rotation', (trx) =>
      trx
        .updateTable('signing_keys')
        .set({ state: 'retired', retired_at: this.clock.now().getTime() })
        .where('purpose', '=', purpose)
        .where('state', '=', 'active')
        .where('kid', '<>', fresh.kid)
        .execute(),
    );
    return fresh.kid;
  }

  private async secretOf(row: SigningKeysTable): Promise<Buffer> {
    return this.cipher.open(SYSTEM_TENANT, ref(row.kid), row.private_sealed);
  }

  /** Ed25519 signature with the purpose's active key. */
  async sign(
    purpose: Exclude<SigningPurpose, 'webhook'>,
    data: Uint8Array,
  ): Promise<{ kid: string; signature: Buffer }> {
    const row = await this.activeKey(purpose);
    const key = createPrivateKey({ key: await this.secretOf(row), format: 'der', type: 'pkcs8' });
    return { kid: row.kid, signature: edSign(null, data, key) };
  }

  /** HMAC-SHA256 with the purpose's active secret (webhooks). */
  async mac(purpose: 'webhook', data: Uint8Array): Promise<{ kid: string; mac: Buffer }> {
    const row = await this.activeKey(purpose);
    return {
      kid: row.kid,
      mac: createHmac('sha256', await this.secretOf(row))
        .update(data)
        .digest(),
    };
  }

  /** Checks a signature or MAC by key id; retired keys still verify, unknown ones never do. */
  async verify(
    purpose: SigningPurpose,
    kid: string,
    data: Uint8Array,
    signature: Uint8Array,
  ): Promise<boolean> {
    const row = (await this.rows(purpose)).find((r) => r.kid === kid);
    if (!row) return false;
    if (row.algorithm === 'Ed25519') {
      if (!row.public_key) return false;
      const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: row.public_key }, format: 'jwk' });
      return edVerify(null, data, key, signature);
    }
    const expected = createHmac('sha256', await this.secretOf(row))
      .update(data)
      .digest();
    return expected.length === signature.length && timingSafeEqual(expected, signature);
  }

  /** The public keys (active first, then retired), for offline verification by clients. */
  async jwks(purpose: Exclude<SigningPurpose, 'webhook'>): Promise<Jwks> {
    const rows = await this.rows(purpose);
    if (!rows.some((r) => r.state === 'active')) rows.unshift(await this.create(purpose));
    const sorted = [...rows.filter((r) => r.state === 'active'), ...rows.filter((r) => r.state !== 'active')];
    return {
      keys: sorted.flatMap((r) =>
        r.public_key
          ? [
              {
                kty: 'OKP' as const,
                crv: 'Ed25519' as const,
                x: r.public_key,
                kid: r.kid,
                use: 'sig' as const,
                alg: 'EdDSA' as const,
                status: r.state,
              },
            ]
          : [],
      ),
    };
  }
}
