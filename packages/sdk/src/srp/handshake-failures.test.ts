/** What the server and the client refuse: wrong passwords, tampered messages, malformed or unsafe values. */
import { beforeAll, describe, expect, it } from 'vitest';
import { bigIntToBytes, bytesToHex } from './bytes.ts';
import {
  srpClientFinish,
  srpClientStart,
  srpRegister,
  verifyM2,
  type SrpClientState,
  type SrpVerifierRecord,
} from './client.ts';
import { SrpError } from './errors.ts';
import { CANOPY_SRP_PROFILE, type SrpProfile } from './profile.ts';
import { srpServerFinish, srpServerStart } from './server.ts';

/** The production group and hash with a cheap KDF: the checks under test do not depend on the count. */
const profile: SrpProfile = { ...CANOPY_SRP_PROFILE, passwordKdf: { iterations: 1000 } };
const { N } = profile.group;
const email = 'carol@example.com';
const password = 'open sesame';
const padded = (value: bigint, bytes = 384): string => bytesToHex(bigIntToBytes(value, bytes));
const flipFirstDigit = (hex: string): string => (hex[0] === '0' ? '1' : '0') + hex.slice(1);

let record: SrpVerifierRecord;
beforeAll(async () => {
  record = await srpRegister(email, password, profile);
});

async function handshake(clientPassword = password) {
  const client = await srpClientStart(email, clientPassword, profile);
  const server = await srpServerStart({ email, ...record }, profile);
  const session = await srpClientFinish(client, { salt: record.salt, B: server.B }, { profile });
  return { client, server, session };
}

describe('the server', () => {
  it('accepts the right password and answers an M2 the client verifies', async () => {
    const { client, server, session } = await handshake();
    const result = await srpServerFinish(server.state, { A: client.A, M1: session.M1 }, profile);
    expect(result.ok).toBe(true);
    expect(result.ok && verifyM2(session, result.M2)).toBe(true);
  });

  it('rejects the M1 of a wrong password, without an M2', async () => {
    const { client, server, session } = await handshake('open sesame!');
    const result = await srpServerFinish(server.state, { A: client.A, M1: session.M1 }, profile);
    expect(result).toMatchObject({ ok: false, code: 'proof_mismatch' });
    expect(result).not.toHaveProperty('M2');
  });

  it('rejects a tampered M1', async () => {
    const { client, server, session } = await handshake();
    const M1 = flipFirstDigit(session.M1);
    const result = await srpServerFinish(server.state, { A: client.A, M1 }, profile);
    expect(result).toMatchObject({ ok: false, code: 'proof_mismatch' });
  });

  it('rejects a valid M1 presented with another A', async () => {
    const { server, session } = await handshake();
    const other = await srpClientStart(email, password, profile);
    const result = await srpServerFinish(server.state, { A: other.A, M1: session.M1 }, profile);
    expect(result).toMatchObject({ ok: false, code: 'proof_mismatch' });
  });

  it('rejects the M1 of a client that was sent a tampered B', async () => {
    const client = await srpClientStart(email, password, profile);
    const server = await srpServerStart({ email, ...record }, profile);
    const forged = await srpServerStart({ email, ...record }, profile);
    const session = await srpClientFinish(client, { salt: record.salt, B: forged.B }, { profile });
    const result = await srpServerFinish(server.state, { A: client.A, M1: session.M1 }, profile);
    expect(result).toMatchObject({ ok: false, code: 'proof_mismatch' });
  });

  // A ≡ 0 (mod N) would make S = 0 whatever the password: the classic SRP authentication bypass.
  it.each([
    ['0', padded(0n)],
    ['N', padded(N)],
    ['N + 1', padded(N + 1n)],
  ])('refuses A = %s as an unsafe public value', async (_, A) => {
    const { server, session } = await handshake();
    const result = await srpServerFinish(server.state, { A, M1: session.M1 }, profile);
    expect(result).toMatchObject({ ok: false, code: 'invalid_public_value' });
  });

  it.each([
    ['A longer than N', { A: padded(2n * N, 385) }, 'invalid_length'],
    ['an empty A', { A: '' }, 'invalid_length'],
    ['A with a non-hex digit', { A: 'g'.repeat(768) }, 'invalid_hex'],
    ['A of odd length', { A: 'abc' }, 'invalid_hex'],
    ['A that is not a string', { A: 42 as unknown as string }, 'invalid_hex'],
    ['a short M1', { M1: 'ab'.repeat(31) }, 'invalid_length'],
    ['an M1 with spaces', { M1: ' '.repeat(64) }, 'invalid_hex'],
  ])('refuses %s with a typed failure', async (_, tampered, code) => {
    const { client, server, session } = await handshake();
    const result = await srpServerFinish(server.state, { A: client.A, M1: session.M1, ...tampered }, profile);
    expect(result).toMatchObject({ ok: false, code });
  });
});

describe('the client', () => {
  let client: SrpClientState;
  beforeAll(async () => {
    client = await srpClientStart(email, password, profile);
  });

  it.each([
    ['B = 0', { B: padded(0n) }, 'invalid_public_value'],
    ['B = N', { B: padded(N) }, 'invalid_public_value'],
    ['B longer than N', { B: `00${padded(1n)}` }, 'invalid_length'],
    ['a B with a non-hex digit', { B: `z${padded(1n).slice(1)}` }, 'invalid_hex'],
    ['a 15-byte salt', { salt: 'ab'.repeat(15) }, 'invalid_length'],
    ['a non-hex salt', { salt: 'salt' }, 'invalid_hex'],
  ])('aborts on %s with an SrpError', async (_, tampered, code) => {
    const server = await srpServerStart({ email, ...record }, profile);
    const reply = { salt: record.salt, B: server.B, ...tampered };
    const finish = srpClientFinish(client, reply, { profile });
    await expect(finish).rejects.toBeInstanceOf(SrpError);
    await expect(finish).rejects.toMatchObject({ code });
  });

  it('needs the password at start or at finish', async () => {
    const withoutPassword = await srpClientStart(email, undefined, profile);
    const server = await srpServerStart({ email, ...record }, profile);
    const reply = { salt: record.salt, B: server.B };
    await expect(srpClientFinish(withoutPassword, reply, { profile })).rejects.toMatchObject({
      code: 'missing_password',
    });
    const session = await srpClientFinish(withoutPassword, reply, { profile, password });
    const result = await srpServerFinish(server.state, { A: withoutPassword.A, M1: session.M1 }, profile);
    expect(result.ok).toBe(true);
  });

  it('rejects a tampered, truncated or malformed M2', async () => {
    const { client: started, server, session } = await handshake();
    const result = await srpServerFinish(server.state, { A: started.A, M1: session.M1 }, profile);
    if (!result.ok) throw new Error(result.code);
    expect(verifyM2(session, flipFirstDigit(result.M2))).toBe(false);
    expect(verifyM2(session, result.M2.slice(2))).toBe(false);
    expect(verifyM2(session, 'not hex')).toBe(false);
    expect(verifyM2(session, result.M2.toUpperCase())).toBe(true);
  });
});
