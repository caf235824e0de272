import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ANSWER_KEY_LABEL, answerMacInput, expectedNonceMac } from './answer.ts';

/** The construction as the server writes it with node:crypto (apps/server licensing answer-binding.ts). */
function serverMac(credential: string, nonce: string, code: string, token: string | undefined): string {
  const key = createHmac('sha256', credential).update(ANSWER_KEY_LABEL).digest();
  const hash = token ? createHash('sha256').update(token).digest('base64url') : '';
  return createHmac('sha256', key)
    .update(answerMacInput(nonce, code, hash))
    .digest('base64url');
}

describe('the validation answer MAC', () => {
  it('is the same bytes in the SDK (WebCrypto) and on the server (node:crypto)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1 }),
        fc.string({ minLength: 1, maxLength: 128 }),
        fc.constantFrom('VALID', 'SUSPENDED', 'NO_SEAT'),
        fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
        async (credential, nonce, code, token) => {
          expect(await expectedNonceMac(credential, nonce, code, token)).toBe(
            serverMac(credential, nonce, code, token),
          );
        },
      ),
      { numRuns: 50 },
    );
  });

  it('changes with the nonce, the code, the token and the credential', async () => {
    const base = await expectedNonceMac('cred', 'n', 'VALID', 'tok');
    for (const other of [
      await expectedNonceMac('cred', 'n2', 'VALID', 'tok'),
      await expectedNonceMac('cred', 'n', 'EXPIRED', 'tok'),
      await expectedNonceMac('cred', 'n', 'VALID', 'tok2'),
      await expectedNonceMac('cred2', 'n', 'VALID', 'tok'),
    ])
      expect(other).not.toBe(base);
  });
});
