/** Unknown emails get answers shaped, and failing, like those of real accounts. */
import { describe, expect, it } from 'vitest';
import { srpClientFinish, srpClientStart } from './client.ts';
import { srpDecoyRecord } from './decoy.ts';
import { CANOPY_SRP_PROFILE, type SrpProfile } from './profile.ts';
import { srpServerFinish, srpServerStart } from './server.ts';

const profile: SrpProfile = { ...CANOPY_SRP_PROFILE, passwordKdf: { iterations: 1000 } };
const secret = new Uint8Array(32).fill(7);

describe('srpDecoyRecord', () => {
  it('gives an email the same salt on every request, whatever its letter case', async () => {
    const first = await srpDecoyRecord(secret, 'Nobody@Example.com', profile);
    const second = await srpDecoyRecord(secret, 'nobody@example.com', profile);
    expect(second).toEqual(first);
    expect(first.salt).toMatch(/^[0-9a-f]{64}$/);
    expect(first.verifier).toMatch(/^[0-9a-f]{768}$/);
  });

  it('gives different emails, and different server secrets, unrelated salts', async () => {
    const base = await srpDecoyRecord(secret, 'nobody@example.com', profile);
    const otherEmail = await srpDecoyRecord(secret, 'nobody2@example.com', profile);
    const otherSecret = await srpDecoyRecord(new Uint8Array(32).fill(8), 'nobody@example.com', profile);
    expect(otherEmail.salt).not.toBe(base.salt);
    expect(otherSecret.salt).not.toBe(base.salt);
    expect(otherSecret.verifier).not.toBe(base.verifier);
  });

  it('yields a fresh B per start, as a real account does, and a login that fails like a wrong password', async () => {
    const decoy = await srpDecoyRecord(secret, 'nobody@example.com', profile);
    const first = await srpServerStart(decoy, profile);
    const second = await srpServerStart(decoy, profile);
    expect(first.B).not.toBe(second.B);

    const client = await srpClientStart('nobody@example.com', 'any password', profile);
    const session = await srpClientFinish(client, { salt: decoy.salt, B: first.B }, { profile });
    const result = await srpServerFinish(first.state, { A: client.A, M1: session.M1 }, profile);
    expect(result).toMatchObject({ ok: false, code: 'proof_mismatch' });
  });

  it('refuses a server secret shorter than 32 bytes', async () => {
    await expect(srpDecoyRecord(new Uint8Array(16), 'nobody@example.com', profile)).rejects.toMatchObject({
      code: 'invalid_server_secret',
    });
  });
});
