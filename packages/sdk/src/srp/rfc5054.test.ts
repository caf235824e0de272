/**
 * RFC 5054 Appendix B: 1024-bit group, SHA-1, I = "alice", P = "password123", raw password in x.
 * The hex is the RFC's, checked digit by digit against four independent implementations' copies.
 */
import { describe, expect, it } from 'vitest';
import { bigIntToBytes, bytesToBigInt, bytesToHex, hexToBytes } from './bytes.ts';
import { srpClientFinish, srpClientStartWithSecret } from './client.ts';
import {
  clientPremaster,
  clientPublic,
  multiplier,
  privateKey,
  scrambler,
  serverPremaster,
  serverPublic,
  verifier,
} from './core.ts';
import { RFC5054_TEST_PROFILE as profile } from './profile.ts';
import { srpServerFinish, srpServerStartWithSecret } from './server.ts';

const hex = (text: string): string => text.replace(/\s+/g, '').toLowerCase();
const int = (text: string): bigint => BigInt(`0x${hex(text)}`);

const I = 'alice';
const P = 'password123';
const s = hex('BEB25379 D1A8581E B5A72767 3A2441EE');
const vector = {
  k: int('7556AA04 5AEF2CDD 07ABAF0F 665C3E81 8913186F'),
  x: int('94B7555A ABE9127C C58CCF49 93DB6CF8 4D16C124'),
  v: int(`7E273DE8 696FFC4F 4E337D05 B4B375BE B0DDE156 9E8FA00A 9886D812
          9BADA1F1 822223CA 1A605B53 0E379BA4 729FDC59 F105B478 7E5186F5
          C671085A 1447B52A 48CF1970 B4FB6F84 00BBF4CE BFBB1681 52E08AB5
          EA53D15C 1AFF87B2 B9DA6E04 E058AD51 CC72BFC9 033B564E 26480D78
          E955A5E2 9E7AB245 DB2BE315 E2099AFB`),
  a: int('60975527 035CF2AD 1989806F 0407210B C81EDC04 E2762A56 AFD529DD DA2D4393'),
  b: int('E487CB59 D31AC550 471E81F0 0F6928E0 1DDA08E9 74A004F4 9E61F5D1 05284D20'),
  A: int(`61D5E490 F6F1B795 47B0704C 436F523D D0E560F0 C64115BB 72557EC4
          4352E890 3211C046 92272D8B 2D1A5358 A2CF1B6E 0BFCF99F 921530EC
          8E393561 79EAE45E 42BA92AE ACED8251 71E1E8B9 AF6D9C03 E1327F44
          BE087EF0 6530E69F 66615261 EEF54073 CA11CF58 58F0EDFD FE15EFEA
          B349EF5D 76988A36 72FAC47B 0769447B`),
  B: int(`BD0C6151 2C692C0C B6D041FA 01BB152D 4916A1E7 7AF46AE1 05393011
          BAF38964 DC46A067 0DD125B9 5A981652 236F99D9 B681CBF8 7837EC99
          6C6DA044 53728610 D0C6DDB5 8B318885 D7D82C7F 8DEB75CE 7BD4FBAA
          37089E6F 9C6059F3 88838E7A 00030B33 1EB76840 910440B1 B27AAEAE
          EB4012B7 D7665238 A8E3FB00 4B117B58`),
  u: int('CE38B959 3487DA98 554ED47D 70A7AE5F 462EF019'),
  S: int(`B0DC82BA BCF30674 AE450C02 87745E79 90A3381F 63B387AA F271A10D
          233861E3 59B48220 F7C4693C 9AE12B0A 6F67809F 0876E2D0 13800D6C
          41BB59B6 D5979B5C 00A172B4 A2A5903A 0BDCAF8A 709585EB 2AFAFA8F
          3499B200 210DCC1F 10EB3394 3CD67FC8 8A2F39A4 BE5BEC4E C0A3212D
          C346D7E4 74B29EDE 8A469FFE CA686E5A`),
};

describe('RFC 5054 Appendix B test vectors', () => {
  const salt = hexToBytes(s, 's', 16, 16);

  it('computes k = H(N | PAD(g))', async () => {
    expect(await multiplier(profile)).toBe(vector.k);
  });

  it('computes x = H(s | H(I | ":" | P)) and v = g^x', async () => {
    const x = await privateKey(profile, salt, I, P);
    expect(x).toBe(vector.x);
    expect(verifier(profile, x)).toBe(vector.v);
  });

  it('computes A = g^a and B = k*v + g^b', () => {
    expect(clientPublic(profile, vector.a)).toBe(vector.A);
    expect(serverPublic(profile, vector.k, vector.v, vector.b)).toBe(vector.B);
  });

  it('computes u = H(PAD(A) | PAD(B))', async () => {
    expect(await scrambler(profile, vector.A, vector.B)).toBe(vector.u);
  });

  it('computes the same premaster secret S on both sides', () => {
    const { k, x, a, b, u, v, A, B } = vector;
    expect(clientPremaster(profile, { k, x, a, u, B })).toBe(vector.S);
    expect(serverPremaster(profile, { v, b, u, A })).toBe(vector.S);
  });

  it('reproduces A and B through the public steps, which then agree on K', async () => {
    const a = bigIntToBytes(vector.a, 32);
    const b = bigIntToBytes(vector.b, 32);
    const client = await srpClientStartWithSecret(I, P, a, profile);
    expect(bytesToBigInt(hexToBytes(client.A, 'A', 128, 128))).toBe(vector.A);

    const record = { email: I, salt: s, verifier: bytesToHex(bigIntToBytes(vector.v, 128)) };
    const { B, state } = await srpServerStartWithSecret(record, b, profile);
    expect(B).toBe(bytesToHex(bigIntToBytes(vector.B, 128)));

    const session = await srpClientFinish(client, { salt: s, B }, { profile });
    const result = await srpServerFinish(state, { A: client.A, M1: session.M1 }, profile);
    expect(result).toMatchObject({ ok: true, M2: session.expectedM2, K: session.K });
  });
});
