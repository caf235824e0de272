/** Random tokens (≥ 256 bits) and how they are stored (SHA-256, hex): a database reader learns nothing usable. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';

export function newToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export const newId = (): string => randomUUID();
