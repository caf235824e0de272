/**
 * Password storage and rules.
 *
 * Hashing: argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane) by default, or bcrypt `$2b$` cost 10
 * (`passwordHash: 'bcrypt'`). A hash of the other kind (or with older parameters) still verifies, and
 * `needsRehash` tells the login to replace it. Bcrypt reads only 72 bytes: a longer password is pre-hashed
 * (HMAC-SHA256, base64, stored as `$bcrypt-sha256$2b$...`), never silently truncated; a plain `$2b$` hash
 * (imported) is never matched by a password longer than 72 bytes.
 *
 * Rules (OWASP ASVS L2, 2.1): 8 to 128 characters (so at least 64 are allowed), no composition rules, and not
 * one of the most common passwords (data/common-passwords.txt, with its source).
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hash as argon2Hash, verify as argon2Verify, type Algorithm } from '@node-rs/argon2';
import { hash as bcryptHash, verify as bcryptVerify } from '@node-rs/bcrypt';
import type { FieldError } from '../../platform/errors.ts';

export type PasswordHashKind = 'argon2id' | 'bcrypt';

export const PASSWORD_MIN_CHARS = 8;
export const PASSWORD_MAX_CHARS = 128;
const BCRYPT_MAX_BYTES = 72;
const BCRYPT_COST = 10;
const ARGON2 = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };
const ARGON2ID = 2 as Algorithm;
const PREHASHED_PREFIX = '$bcrypt-sha256$';

const COMMON = new Set(
  readFileSync(new URL('./data/common-passwords.txt', import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#')),
);

/** Problems with a new password, or [] when it is acceptable. `path` names the field in the request. */
export function passwordProblems(password: string, path = 'body.password'): FieldError[] {
  const length = [...password].length;
  if (length < PASSWORD_MIN_CHARS)
    return [{ path, message: `must have at least ${PASSWORD_MIN_CHARS} characters` }];
  if (length > PASSWORD_MAX_CHARS)
    return [{ path, message: `must have at most ${PASSWORD_MAX_CHARS} characters` }];
  if (COMMON.has(password.toLowerCase())) {
    return [{ path, message: 'is one of the most commonly used passwords; choose another' }];
  }
  return [];
}

const prehash = (password: string) =>
  createHmac('sha256', 'canopy/v1/bcrypt-prehash').update(password, 'utf8').digest('base64');

export async function hashPassword(password: string, kind: PasswordHashKind): Promise<string> {
  if (kind === 'argon2id') return argon2Hash(password, { ...ARGON2, algorithm: ARGON2ID });
  if (Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_BYTES) {
    return (
      PREHASHED_PREFIX + (await bcryptHash(prehash(password), { cost: BCRYPT_COST, version: '2b' })).slice(1)
    );
  }
  return bcryptHash(password, { cost: BCRYPT_COST, version: '2b' });
}

export function hashKind(stored: string): PasswordHashKind | undefined {
  if (stored.startsWith('$argon2')) return 'argon2id';
  if (stored.startsWith(PREHASHED_PREFIX) || /^\$2[aby]\$/.test(stored)) return 'bcrypt';
  return undefined;
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    if (stored.startsWith('$argon2')) return await argon2Verify(stored, password);
    if (stored.startsWith(PREHASHED_PREFIX)) {
      return await bcryptVerify(prehash(password), `$${stored.slice(PREHASHED_PREFIX.length)}`);
    }
    if (/^\$2[aby]\$/.test(stored)) {
      // A plain bcrypt hash only ever saw 72 bytes; a longer password must not match by its prefix.
      if (Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_BYTES) return false;
      return await bcryptVerify(password, stored);
    }
  } catch {
    return false;
  }
  return false;
}

/** Whether a stored hash should be replaced (other kind, or weaker parameters than today's). */
export function needsRehash(stored: string, kind: PasswordHashKind): boolean {
  if (kind === 'argon2id') {
    return !stored.startsWith(
      `$argon2id$v=19$m=${ARGON2.memoryCost},t=${ARGON2.timeCost},p=${ARGON2.parallelism}$`,
    );
  }
  const plain = stored.startsWith(PREHASHED_PREFIX) ? `$${stored.slice(PREHASHED_PREFIX.length)}` : stored;
  return !new RegExp(`^\\$2b\\$${BCRYPT_COST}\\$`).test(plain);
}

/**
 * Verifies against a hash of a random password of the configured kind: run it when the account does not exist
 * (or has no password) so that the answer takes as long as a real check.
 */
export class DummyPasswordCheck {
  private readonly hashes = new Map<PasswordHashKind, Promise<string>>();

  async run(password: string, kind: PasswordHashKind): Promise<void> {
    let h = this.hashes.get(kind);
    if (!h) {
      h = hashPassword(`dummy-${Math.random()}-${Date.now()}`, kind);
      this.hashes.set(kind, h);
    }
    await verifyPassword(await h, password);
  }
}
