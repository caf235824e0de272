/** The crypto tables (migration 0010_crypto.ts). */
declare module '../db/schema.ts' {
  interface Tables {
    tenant_data_keys: TenantDataKeysTable;
    crypto_rotations: CryptoRotationsTable;
    signing_keys: SigningKeysTable;
  }
}

export type DataKeyPurpose = 'data' | 'index';

/**
 * One tenant's data keys, wrapped by a root key. `purpose` 'data' keys seal values and blobs and rotate;
 * the 'index' key feeds blind indexes (it is re-wrapped by root-key rotation but not rotated itself, since
 * re-indexing needs every plaintext). A row with purpose 'shredded' is the tombstone of a crypto-shredded tenant.
 */
export interface TenantDataKeysTable {
  tenant_id: string;
  purpose: DataKeyPurpose | 'shredded';
  version: number;
  /** IV || ciphertext || tag; null once the key is retired (its material is destroyed). */
  wrapped_key: Buffer | null;
  kek_version: number;
  /** active: used for new writes; retiring: still read, being re-encrypted away; retired: destroyed. */
  state: 'active' | 'retiring' | 'retired' | 'shredded';
  created_at: number;
  retired_at: number | null;
}

/** Progress of a root-key rotation (kind 'kek') or a tenant data-key rotation (kind 'data_key'). */
export interface CryptoRotationsTable {
  id: string;
  kind: 'kek' | 'data_key';
  tenant_id: string | null;
  from_version: number | null;
  to_version: number;
  state: 'running' | 'done';
  processed: number;
  started_at: number;
  updated_at: number;
  finished_at: number | null;
}

export interface SigningKeysTable {
  kid: string;
  purpose: string;
  algorithm: 'Ed25519' | 'HS256';
  /** base64url raw public key (Ed25519); null for HMAC secrets. */
  public_key: string | null;
  /** The private key (PKCS#8 DER) or HMAC secret, sealed under the system tenant's data key. */
  private_sealed: Buffer;
  state: 'active' | 'retired';
  created_at: number;
  retired_at: number | null;
}
