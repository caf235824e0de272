import { describe, expect, it } from 'vitest';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { hashKind, hashPassword, needsRehash, passwordProblems, verifyPassword } from './passwords.ts';

describe('password rules (ASVS L2)', () => {
  it('accepts 8 to 128 characters without composition rules', () => {
    expect(passwordProblems('correct horse')).toEqual([]);
    expect(passwordProblems('a'.repeat(7) + 'b')).toEqual([]);
    expect(passwordProblems('ü'.repeat(128))).toEqual([]);
    expect(passwordProblems('short')).toHaveLength(1);
    expect(passwordProblems('x'.repeat(129))).toHaveLength(1);
  });

  it('refuses the most common passwords, in any letter case', () => {
    expect(passwordProblems('password1')).toHaveLength(1);
    expect(passwordProblems('Iloveyou123'.toLowerCase())).toHaveLength(0);
    expect(passwordProblems('QWERTYUIOP')).toHaveLength(1);
    expect(passwordProblems('12345678')).toHaveLength(1);
  });
});

describe('password hashing', () => {
  it('hashes with argon2id (OWASP parameters) and verifies', async () => {
    const h = await hashPassword('tree of knowledge', 'argon2id');
    expect(h).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(h, 'tree of knowledge')).toBe(true);
    expect(await verifyPassword(h, 'tree of knowledgE')).toBe(false);
    expect(needsRehash(h, 'argon2id')).toBe(false);
    expect(needsRehash(h, 'bcrypt')).toBe(true);
  });

  it('hashes with bcrypt $2b$ cost 10 and verifies', async () => {
    const h = await hashPassword('tree of knowledge', 'bcrypt');
    expect(h).toMatch(/^\$2b\$10\$/);
    expect(hashKind(h)).toBe('bcrypt');
    expect(await verifyPassword(h, 'tree of knowledge')).toBe(true);
    expect(needsRehash(h, 'bcrypt')).toBe(false);
    expect(needsRehash(h, 'argon2id')).toBe(true);
  });

  it('never truncates a password longer than bcrypt’s 72 bytes', async () => {
    const long = 'é'.repeat(40) + 'tail-a'; // 86 bytes
    const other = 'é'.repeat(40) + 'tail-b';
    const h = await hashPassword(long, 'bcrypt');
    expect(h.startsWith('$bcrypt-sha256$2b$10$')).toBe(true);
    expect(await verifyPassword(h, long)).toBe(true);
    expect(await verifyPassword(h, other)).toBe(false);
    // A plain (imported) bcrypt hash of the first 72 bytes does not accept the longer password.
    const truncated = Buffer.from(long, 'utf8').subarray(0, 72);
    const plain = await bcryptHash(truncated, { cost: 4 });
    expect(await verifyPassword(plain, long)).toBe(false);
  });

  it('rejects unknown hash formats', async () => {
    expect(await verifyPassword('plaintext', 'plaintext')).toBe(false);
  });
});
