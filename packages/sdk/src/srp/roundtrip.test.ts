/** Property tests: any email and password log in; any other password, or another account's verifier, does not. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, constantTimeEqual, hexToBytes } from './bytes.ts';
import { srpClientFinish, srpClientStart, srpRegister } from './client.ts';
import { CANOPY_SRP_PROFILE, type SrpProfile } from './profile.ts';
import { srpServerFinish, srpServerStart } from './server.ts';

const profile: SrpProfile = { ...CANOPY_SRP_PROFILE, passwordKdf: { iterations: 1000 } };

async function login(
  registered: { email: string; password: string },
  attempt: { email: string; password: string },
) {
  const record = await srpRegister(registered.email, registered.password, profile);
  const client = await srpClientStart(attempt.email, attempt.password, profile);
  const server = await srpServerStart({ email: registered.email, ...record }, profile);
  const session = await srpClientFinish(client, { salt: record.salt, B: server.B }, { profile });
  return srpServerFinish(server.state, { A: client.A, M1: session.M1 }, profile);
}

const credentials = fc.record({
  email: fc.emailAddress(),
  password: fc.string({ unit: 'grapheme', maxLength: 40 }),
});

describe('SRP round trips', () => {
  it('log in with the registered email and password', async () => {
    await fc.assert(
      fc.asyncProperty(credentials, async (account) => {
        expect((await login(account, account)).ok).toBe(true);
      }),
      { numRuns: 8 },
    );
  });

  it('fail with any other password', async () => {
    await fc.assert(
      fc.asyncProperty(
        credentials,
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        async (account, other) => {
          fc.pre(other !== account.password);
          const result = await login(account, { email: account.email, password: other });
          expect(result).toMatchObject({ ok: false, code: 'proof_mismatch' });
        },
      ),
      { numRuns: 8 },
    );
  });

  it('fail with another identity, even with the right password', async () => {
    await fc.assert(
      fc.asyncProperty(credentials, fc.emailAddress(), async (account, other) => {
        fc.pre(other.toLowerCase() !== account.email.toLowerCase());
        const result = await login(account, { email: other, password: account.password });
        expect(result).toMatchObject({ ok: false, code: 'proof_mismatch' });
      }),
      { numRuns: 8 },
    );
  });
});

describe('hex codec', () => {
  it('round-trips any bytes, and compares equal exactly when the bytes are equal', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (bytes, other) => {
        const hex = bytesToHex(bytes);
        expect(hex).toMatch(/^[0-9a-f]*$/);
        expect(hexToBytes(hex, 'bytes', 0, 64)).toEqual(new Uint8Array(bytes));
        expect(constantTimeEqual(bytes, other)).toBe(bytesToHex(other) === hex);
      }),
    );
  });
});
