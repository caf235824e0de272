/**
 * Root keys (KEKs). A `RootKeyProvider` wraps and unwraps tenant data keys; it never hands its key material out,
 * so a KMS or Vault transit adapter can implement the same interface later. The default is a versioned keyring
 * file in the data dir, created on first start with mode 0600. Its format (docs/security.md, "Keyring file"):
 *
 *   { "format": "canopy-keyring", "formatVersion": 1, "current": 2,
 *     "keys": [ { "version": 1, "createdAt": "<ISO time>", "retiredAt": null | "<ISO time>", "key": "<base64, 32 bytes>" } ] }
 *
 * A wrapped data key is IV (12 bytes) || AES-256-GCM ciphertext (32 bytes) || tag (16 bytes), with an AAD that
 * names the tenant, the key's purpose and version, and the KEK version, so a wrapped key cannot be moved.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { Clock } from '../clock.ts';

export interface RootKeyVersion {
  version: number;
  createdAt: string;
  retiredAt: string | null;
}

export interface RootKeyProvider {
  readonly kind: string;
  /** The version that `wrap` uses. */
  currentVersion(): Promise<number>;
  wrap(plaintextKey: Uint8Array, aad: Uint8Array): Promise<{ kekVersion: number; wrapped: Buffer }>;
  unwrap(kekVersion: number, wrapped: Uint8Array, aad: Uint8Array): Promise<Buffer>;
  /** Rotation: adds a new version and makes it current. Older versions keep unwrapping. */
  addVersion(): Promise<number>;
  /** Marks a non-current version retired: kept so that old backups stay readable, never used to wrap. */
  retireVersion(version: number): Promise<void>;
  listVersions(): Promise<RootKeyVersion[]>;
}

export class KeyringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyringError';
  }
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

export function wrapKey(kek: Uint8Array, plaintextKey: Uint8Array, aad: Uint8Array): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintextKey), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

export function unwrapKey(kek: Uint8Array, wrapped: Uint8Array, aad: Uint8Array): Buffer {
  if (wrapped.length < IV_BYTES + TAG_BYTES) throw new KeyringError('wrapped key too short');
  const buf = Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength);
  const decipher = createDecipheriv('aes-256-gcm', kek, buf.subarray(0, IV_BYTES), {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(aad);
  decipher.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(buf.subarray(IV_BYTES, buf.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new KeyringError(
      'cannot unwrap data key: wrong root key version, or the wrapped key was altered or moved',
    );
  }
}

interface KeyringFile {
  format: 'canopy-keyring';
  formatVersion: 1;
  current: number;
  keys: (RootKeyVersion & { key: string })[];
}

/** Writes a file atomically with mode 0600: temp file, fsync, then link (create) or rename (replace), fsync dir. */
function writeSecretFile(path: string, contents: string, mode: 'create' | 'replace'): boolean {
  const tmp = join(dirname(path), `.${Date.now()}-${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, contents);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  let created = true;
  try {
    if (mode === 'create') {
      try {
        linkSync(tmp, path); // fails if another process created the keyring first
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        created = false;
      }
      unlinkSync(tmp);
    } else {
      renameSync(tmp, path);
    }
  } catch (err) {
    if (existsSync(tmp)) unlinkSync(tmp);
    throw err;
  }
  const dirFd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
  return created;
}

/**
 * The keyring file provider. Every node of a deployment needs the same file (or a KMS adapter): a node that
 * meets an unknown version re-reads the file before giving up.
 */
export class LocalKeyringProvider implements RootKeyProvider {
  readonly kind = 'local-keyring';
  private state: KeyringFile;
  private keys = new Map<number, Buffer>();
  private stamp = '';

  private constructor(
    readonly path: string,
    private readonly clock: Clock,
  ) {
    this.state = this.read();
  }

  /** Opens the keyring at `path`, creating it (one fresh version) if it does not exist. */
  static open(path: string, clock: Clock): LocalKeyringProvider {
    if (!existsSync(path)) {
      const first: KeyringFile = {
        format: 'canopy-keyring',
        formatVersion: 1,
        current: 1,
        keys: [
          {
            version: 1,
            createdAt: clock.now().toISOString(),
            retiredAt: null,
            key: randomBytes(32).toString('base64'),
          },
        ],
      };
      writeSecretFile(path, `${JSON.stringify(first, null, 2)}\n`, 'create');
    }
    return new LocalKeyringProvider(path, clock);
  }

  private read(): KeyringFile {
    const st = statSync(this.path);
    this.stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    if ((st.mode & 0o077) !== 0) {
      throw new KeyringError(
        `keyring ${this.path} is readable or writable by other users (mode ${(st.mode & 0o777).toString(8)}): chmod 600 it`,
      );
    }
    let parsed: KeyringFile;
    try {
      parsed = JSON.parse(readFileSync(this.path, 'utf8')) as KeyringFile;
    } catch (err) {
      throw new KeyringError(`keyring ${this.path} is not valid JSON: ${(err as Error).message}`);
    }
    if (parsed.format !== 'canopy-keyring' || parsed.formatVersion !== 1 || !Array.isArray(parsed.keys)) {
      throw new KeyringError(`keyring ${this.path} has an unknown format`);
    }
    const keys = new Map<number, Buffer>();
    for (const k of parsed.keys) {
      const key = Buffer.from(k.key, 'base64');
      if (key.length !== 32 || !Number.isInteger(k.version) || k.version < 1) {
        throw new KeyringError(`keyring ${this.path}: version ${k.version} is malformed`);
      }
      keys.set(k.version, key);
    }
    if (!keys.has(parsed.current))
      throw new KeyringError(`keyring ${this.path}: current version ${parsed.current} is missing`);
    this.keys = keys;
    return parsed;
  }

  private keyFor(version: number): Buffer {
    let key = this.keys.get(version);
    if (!key) {
      this.state = this.read(); // another node or `canopy keys rotate` may have added it
      key = this.keys.get(version);
    }
    if (!key)
      throw new KeyringError(
        `root key version ${version} is not in ${this.path}; restore the keyring from backup`,
      );
    return key;
  }

  /** Re-reads the file when it changed (e.g. `canopy keys rotate` on a running deployment). */
  private refresh(): void {
    const st = statSync(this.path);
    if (`${st.mtimeMs}:${st.size}:${st.ino}` !== this.stamp) this.state = this.read();
  }

  async currentVersion(): Promise<number> {
    this.refresh();
    return this.state.current;
  }

  /** Re-reads the file (after another process rotated). */
  reload(): void {
    this.state = this.read();
  }

  async wrap(plaintextKey: Uint8Array, aad: Uint8Array): Promise<{ kekVersion: number; wrapped: Buffer }> {
    this.refresh();
    const kekVersion = this.state.current;
    return { kekVersion, wrapped: wrapKey(this.keyFor(kekVersion), plaintextKey, aad) };
  }

  async unwrap(kekVersion: number, wrapped: Uint8Array, aad: Uint8Array): Promise<Buffer> {
    return unwrapKey(this.keyFor(kekVersion), wrapped, aad);
  }

  async addVersion(): Promise<number> {
    const fresh = this.read();
    const version = Math.max(...fresh.keys.map((k) => k.version)) + 1;
    const next: KeyringFile = {
      ...fresh,
      current: version,
      keys: [
        ...fresh.keys,
        {
          version,
          createdAt: this.clock.now().toISOString(),
          retiredAt: null,
          key: randomBytes(32).toString('base64'),
        },
      ],
    };
    writeSecretFile(this.path, `${JSON.stringify(next, null, 2)}\n`, 'replace');
    this.state = this.read();
    return version;
  }

  async retireVersion(version: number): Promise<void> {
    const fresh = this.read();
    if (version === fresh.current) throw new KeyringError('the current root key version cannot be retired');
    const next: KeyringFile = {
      ...fresh,
      keys: fresh.keys.map((k) =>
        k.version === version && !k.retiredAt ? { ...k, retiredAt: this.clock.now().toISOString() } : k,
      ),
    };
    writeSecretFile(this.path, `${JSON.stringify(next, null, 2)}\n`, 'replace');
    this.state = this.read();
  }

  async listVersions(): Promise<RootKeyVersion[]> {
    return this.state.keys.map(({ version, createdAt, retiredAt }) => ({ version, createdAt, retiredAt }));
  }
}
