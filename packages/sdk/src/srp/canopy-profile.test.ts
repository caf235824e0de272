/**
 * Canopy's production profile (API.md): 3072-bit group, g = 5, SHA-256, P' = hex(PBKDF2-HMAC-SHA256(password,
 * s, 600000, 32)). The known-answer vector comes from testdata/canopy_vector.py, an independent Python
 * implementation of the same formulas, at the full iteration count.
 */
import { describe, expect, it } from 'vitest';
import { hexToBytes } from './bytes.ts';
import {
  srpClientFinish,
  srpClientStart,
  srpClientStartWithSecret,
  srpRegister,
  verifyM2,
} from './client.ts';
import { multiplier, passwordInput, privateKey, scrambler, verifier } from './core.ts';
import { groupElementToHex } from './wire.ts';
import { CANOPY_SRP_PROFILE as profile } from './profile.ts';
import { srpServerFinish, srpServerStart, srpServerStartWithSecret } from './server.ts';

const email = 'Alice.Example@Canopy.Test';
const password = 'correct horse battery staple ✓';
const bytesFrom = (start: number): Uint8Array<ArrayBuffer> =>
  Uint8Array.from({ length: 32 }, (_, i) => start + i);
const salt = bytesFrom(0x10);
const a = bytesFrom(0x40);
const b = bytesFrom(0x80);
const hexOf = (value: bigint): string => value.toString(16).padStart(64, '0');

const vector = {
  Pprime: '57cd8e579cce33b060b1673908ac479074d0663bc6a83ddbfe4fa6249fd1aa7b',
  x: 'b25f10e74cdf170b61e03e3f2a196c0cdb934773b1fa61ec66ebb75b22d73bda',
  k: '081f4874fa543a371b49a670402fda59ecfab53a1b850fc42e1c357cc846111e',
  v:
    '91df0c6e78c6b728c8393ef98312e107ce3eccbc561a1a971eead61207fbfd6feed69fab79e47e5eeec62c5af1a58737' +
    '938d4d18678a8c26be0131587d73a15180472b99e6e8c9ae5419527fae526cda0debcd56312e40da2e7b1486078b8fef' +
    '1c0ad0fe5f4ccfb8fb5f60e1785aa67334f77547a104015140528d0b07095b79c01ef783645fdddaf3f824b80f5dd39e' +
    'dcf02d0e5368f9b0bce3743a27e18fbaa1b8b9ba936d3dae142e3ba18d0cb440bd1bbac45987ef226e393690be3ec5ac' +
    '7fd9b9c041a5608eda054930c01b91302ebbdcf04e29cff04523728c03b64119d54bd91a26867033e32e14018553f015' +
    'e6de03fc38e85a4a20ffa7816df853893fc392f7af885b0cf6674211665bad07e4f255a2255f055bee68f606de3bb2c6' +
    'df05b0d20ae66b39b54c85e76e268148fed782f2d81de9d008bd3e854c0dd5caaefe8a318251e895a27ecfce96a2fd08' +
    '0607ba19349eb266169c076f609275d5a7d7bb35adceacfafaa08246f4c4de2ecf4e0ce5f7ac5006fd6b2ab81b1dbfa4',
  A:
    '834013c314682b58f3597a00833e508c1239fef5ba32ab644ee9d6b2ed188938ffcf1646dd251cb458bd01ba086daa45' +
    '64e4583067383a39387f174452da24edf34aa55a42379a5966f7aa13f1f171537da624e887ae95e09e108c96fd5950a1' +
    '19ef5b8812bf283ea0a9429e322948d87d6093b407f5382baf569472c857d9bd0032af1fb046a8052d42edc2332c7821' +
    'e84c7afd1ea3823123574633acad7c4f028c78000c270d067ed2378ec859b700eee9d71338e0ccce5bf02a8bf5fd8073' +
    '5872ccc4a2df085ca009d9cb1650d58c2c20caaa4a542d2f019aced421798f05fe53598cb4457af2382fba455971dbbd' +
    '8be858dbdc9baac6b6046ce7b773d0324d3df9dc68209a3ed42a276b2d9a8ad52aa790ddf451d347e3bbdfd1fdbdc8e9' +
    'a19d88bb2e4680e16a44ddb5775b914d7ef4363174519a828647d43f5c68ec605110a74157f68d6bbc8094510b5918ed' +
    '40836a7206a8c72a9017429e8e09b4cd62fe8c3c9c8fe2961c4be8de687412ce4b6df19ac8a6c64cf2c1b3d49d6b0749',
  B:
    'b20d434f879999703d9922e42383a49690a3a37a8e5c3fd1f897651700b794dc49a9eb7f37145f4e51e5a9657bd62e55' +
    'c097ce6dcabc7c277322db8c555572c52ca54f80f2f140e1d2fbf9cbe6aca28ae58127d6379a7944323cb39109eb371c' +
    'e3e26e8fbf4f507bd672ec8979b4585df6ae98ef69423e86fc027641b4c71099e483005d414ca6f1b7591a1323268ea8' +
    'a46f953b463c8d73baa4a80916c129b1b8e8ced4109b4a34289a9508c8bd3e9e9213da361ea9e2dc7b82ff43d6adef6a' +
    '7d0fd93382e1a9a2d06906c26e5efc5e9594ddfc0031ec62850b4f4b942b025c666bd6612836cfca2f86e23f445aa489' +
    '23007da4660e5506c7ba3f70dad509b92abdb9cbabf347d3a08e2f697728681e02cf599b4bbdf6c664338e598908f6b1' +
    'c89ad42b541317fb052c66c68f05994d9e2e86e2d57e38c126247e627ffa0a2fa3cce04b7945c6da083315c6a69ffb24' +
    'a236d79a533001efccbcf48949b2043542d4ab7c5879bc3ebd5749887d6cba473b4c5e81f7b866f846025b01ce9c28ac',
  u: '1819106940daf1c9f30b20e36f3fb685c7ba953ae05a97b2316c5342877105d6',
  S:
    '3b5b483511fa90cecf34b358b49d8cdd3b3bd84e8266c7fd9a7fc5a4873a76084317b300c0ee40b4f8524addde4cb9d0' +
    'de40ec9f69b1b7c08c9dabeb45e2f6c1508f6347461bf27e0efc18dcd3da398244538dd374c345834c8e95dae66e2a53' +
    '4860ae0f7fd2a3aa397c6cbe6aaba62fa7292847a58382705f49b2d1b25ca0ba335143d9d2f90aed787a1aba975a9ed0' +
    '857b6d0222131b820168ed7b54e1f420469abb2b96958e4be54ee9b07b00eeb8a75c854167d73264ff99cffade629912' +
    '05d9ed0dca6bde09c4ba1a42ba16bffa3557b9b259e599084a36ed59836db7d80966260fb2ee863929941826067f0c25' +
    '5dff126a8511a57efa839c5e1ef5e5335d7443603060383fa40612cce80a8f2e52e93dc094de78b51597e29f1b33d570' +
    'e0a6d9d296beb077dcc9e751ebd491d1bbb31a6e41770b445e45fb34a22f0da581daf0d6a5723e90ff17fce25a88db78' +
    'eb400f8e06d6f08ffd779fafd9d934d0c1d0460888db78dc1521cf6357c6e7fcb814fab8b5ad3c31608cb6d25b70d690',
  K: 'fe9458538124857bfad0cef3cf7e0c9dee82958ba49e9bc695aa0afdcb47c891',
  M1: 'a03db2f1bb35b94419054623d14845decee10cf6136342a3d7656558ec1ea5cb',
  M2: '2b1beeff74f3a6e5b8bdc5ce3716e938257cb5562b2a23968c447069d81385dd',
};

describe('the production profile', () => {
  it('uses PBKDF2 at 600,000 iterations over the 3072-bit group with g = 5 and SHA-256', () => {
    expect(profile.passwordKdf).toEqual({ iterations: 600_000 });
    expect(profile.hash).toBe('SHA-256');
    expect(profile.group.g).toBe(5n);
    expect(profile.group.byteLength).toBe(384);
  });

  it('matches the independent known-answer vector at the full iteration count', async () => {
    expect(await passwordInput(profile, salt, password)).toBe(vector.Pprime);
    const x = await privateKey(profile, salt, 'alice.example@canopy.test', password);
    expect(hexOf(x)).toBe(vector.x);
    expect(groupElementToHex(verifier(profile, x), profile)).toBe(vector.v);
    expect(hexOf(await multiplier(profile))).toBe(vector.k);

    const client = await srpClientStartWithSecret(email, password, a, profile);
    expect(client.A).toBe(vector.A);
    const record = {
      email,
      salt: '101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f',
      verifier: vector.v,
    };
    const { B, state } = await srpServerStartWithSecret(record, b, profile);
    expect(B).toBe(vector.B);
    expect(hexOf(await scrambler(profile, BigInt(`0x${vector.A}`), BigInt(`0x${vector.B}`)))).toBe(vector.u);

    const session = await srpClientFinish(client, { salt: record.salt, B });
    expect(session).toEqual({ M1: vector.M1, expectedM2: vector.M2, K: hexToBytes(vector.K, 'K', 32, 32) });
    const result = await srpServerFinish(state, { A: client.A, M1: session.M1 });
    expect(result).toEqual({ ok: true, M2: vector.M2, K: session.K });
  });

  it('logs in end to end with random salt, a and b, the email in any letter case', async () => {
    const record = await srpRegister('Bob@Example.com', 'hunter2 but longer');
    expect(record.salt).toMatch(/^[0-9a-f]{64}$/);
    expect(record.verifier).toMatch(/^[0-9a-f]{768}$/);

    const client = await srpClientStart('bob@example.COM', 'hunter2 but longer');
    const { B, state } = await srpServerStart({ email: 'bob@example.com', ...record });
    const session = await srpClientFinish(client, { salt: record.salt, B });
    const result = await srpServerFinish(state, { A: client.A, M1: session.M1 });
    if (!result.ok) throw new Error(`login failed: ${result.code}`);
    expect(verifyM2(session, result.M2)).toBe(true);
    expect(result.K).toEqual(session.K);
  });
});
