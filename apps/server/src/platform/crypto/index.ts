/**
 * The crypto port: root keys, tenant data keys, the column cipher and blind indexes, key rotation, signing keys.
 * `createCrypto` opens (or creates) the keyring file in the data dir unless another root key provider is given.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/connect.ts';
import type { JobQueue } from '../jobs/queue.ts';
import { Cipher } from './cipher.ts';
import { LocalKeyringProvider, type RootKeyProvider } from './keyring.ts';
import { DataKeyRotation } from './data-key-rotation.ts';
import { rotateRootKey, type RootKeyRotationResult } from './rotation.ts';
import { SigningKeys } from './signing.ts';
import { TenantKeyStore } from './tenant-keys.ts';

export { Cipher, normaliseEmail, type FieldRef } from './cipher.ts';
export { LocalKeyringProvider, KeyringError, type RootKeyProvider } from './keyring.ts';
export {
  DataKeyRotation,
  sealedColumn,
  type DataKeyUser,
  type SealedColumnSpec,
} from './data-key-rotation.ts';
export { rotateRootKey } from './rotation.ts';
export { SigningKeys, type Jwks, type SigningPurpose } from './signing.ts';
export {
  SYSTEM_TENANT,
  TenantKeyStore,
  TenantKeysDestroyedError,
  DataKeyMissingError,
  type KeyContext,
} from './tenant-keys.ts';
export { DecryptionError } from './value-format.ts';
export { linkKeyCacheToPubSub, KEY_CACHE_CHANNEL } from './key-cache-bus.ts';

export interface CryptoOptions {
  dataDir: string;
  /** Default: `<dataDir>/keyring.json`. */
  keyringPath?: string;
  /** A KMS/Vault adapter instead of the keyring file. */
  rootKeyProvider?: RootKeyProvider;
  /** How long unwrapped tenant keys stay in memory. Default 60 s. */
  keyCacheTtlMs?: number;
  maxCachedTenants?: number;
}

export interface CryptoDeps {
  database: Database;
  clock: Clock;
  logger: Logger;
  /** When given, the re-encryption job is defined on it. */
  jobs?: JobQueue;
}

export interface CryptoPort {
  readonly rootKeys: RootKeyProvider;
  readonly keys: TenantKeyStore;
  readonly cipher: Cipher;
  /** Register sealed columns here (`dataKeys.registerColumn(...)`) so tenant key rotation re-encrypts them. */
  readonly dataKeys: DataKeyRotation;
  readonly signing: SigningKeys;
  rotateRootKey(options?: {
    batchSize?: number;
    onProgress?: (done: number) => void;
  }): Promise<RootKeyRotationResult>;
}

export function createCrypto(options: CryptoOptions, deps: CryptoDeps): CryptoPort {
  const rootKeys =
    options.rootKeyProvider ??
    LocalKeyringProvider.open(options.keyringPath ?? join(options.dataDir, 'keyring.json'), deps.clock);
  const keys = new TenantKeyStore(deps.database, rootKeys, deps.clock, {
    cacheTtlMs: options.keyCacheTtlMs,
    maxCachedTenants: options.maxCachedTenants,
  });
  const cipher = new Cipher(keys);
  const dataKeys = new DataKeyRotation({ ...deps, keys, cipher });
  if (deps.jobs) dataKeys.defineJobs(deps.jobs);
  const signing = new SigningKeys(deps.database, cipher, deps.clock);
  return {
    rootKeys,
    keys,
    cipher,
    dataKeys,
    signing,
    rotateRootKey: (o) =>
      rotateRootKey({ database: deps.database, keys, clock: deps.clock, logger: deps.logger }, o),
  };
}
