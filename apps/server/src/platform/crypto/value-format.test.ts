import { hkdfSync, webcrypto } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bindingAad,
  DecryptionError,
  deriveKey,
  openValue,
  sealValue,
  sealedKeyVersion,
  VALUE_HEADER_BYTES,
  valueSealer,
  type ValueBinding,
} from './value-format.ts';

const key = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const salt = Buffer.from(Array.from({ length: 16 }, (_, i) => 0xa0 + i));
const iv = Buffer.from(Array.from({ length: 12 }, (_, i) => 0xb0 + i));
const binding: ValueBinding = { tenantId: 'tenant-a', table: 'users', id: 'u1', column: 'email' };
const plaintext = Buffer.from('ada@example.com');

// Version 1, key version 7, salt a0..af, IV b0..bb, 15 bytes of ciphertext, 16-byte tag.
const KNOWN =
  '01' +
  '00000007' +
  'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf' +
  'b0b1b2b3b4b5b6b7b8b9babb' +
  'fb2c34be1bc2e717fde32914e0a947' +
  'c760f6beb788b5d297904f042606bf99';

describe('sealed value format v1', () => {
  it('derives the same key bytes as crypto.hkdfSync (HKDF-SHA256, 32 bytes), whatever the key, salt and info', () => {
    const bytes = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max });
    fc.assert(
      fc.property(bytes(96), bytes(160), bytes(200), (ikm, salt, info) => {
        const expected = Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
        expect(deriveKey(ikm, salt, info).equals(expected)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('matches the known answer', () => {
    expect(sealValue(key, 7, binding, plaintext, { salt, iv }).toString('hex')).toBe(KNOWN);
    expect(openValue(key, binding, Buffer.from(KNOWN, 'hex')).toString()).toBe('ada@example.com');
  });

  it('seals value after value with one sealer exactly as sealValue does, each with fresh randomness', () => {
    const seal = valueSealer(key, 7, binding);
    expect(seal(plaintext, { salt, iv }).toString('hex')).toBe(KNOWN);
    const sealed = Array.from({ length: 50 }, (_, i) => seal(Buffer.from(`value ${i}`)));
    expect(new Set(sealed.map((v) => v.subarray(5, VALUE_HEADER_BYTES).toString('hex'))).size).toBe(50);
    sealed.forEach((v, i) => expect(openValue(key, binding, v).toString()).toBe(`value ${i}`));
    expect(seal(plaintext, { salt, iv }).toString('hex')).toBe(KNOWN);
  });

  it('agrees with an independent WebCrypto computation of HKDF-SHA256 and AES-256-GCM', async () => {
    const subtle = webcrypto.subtle;
    const ikm = await subtle.importKey('raw', key, 'HKDF', false, ['deriveKey']);
    const valueKey = await subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-256', salt, info: Buffer.from('canopy/v1/value') },
      ikm,
      { name: 'AES-GCM', length: 256 },
      false,
      ['encrypt'],
    );
    const header = Buffer.from(KNOWN, 'hex').subarray(0, VALUE_HEADER_BYTES);
    const aad = Buffer.concat([header, bindingAad(binding)]);
    const out = await subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: aad, tagLength: 128 },
      valueKey,
      plaintext,
    );
    expect(Buffer.concat([header, Buffer.from(out)]).toString('hex')).toBe(KNOWN);
  });

  it('encodes the binding with length prefixes, so field boundaries cannot shift', () => {
    expect(
      bindingAad({ tenantId: 'a|b', table: 'c', id: 'd', column: 'e' }).equals(
        bindingAad({ tenantId: 'a', table: 'b|c', id: 'd', column: 'e' }),
      ),
    ).toBe(false);
    expect(bindingAad(binding).toString('hex')).toBe(
      '000c' +
        Buffer.from('canopy-value').toString('hex') +
        '0008' +
        Buffer.from('tenant-a').toString('hex') +
        '0005' +
        Buffer.from('users').toString('hex') +
        '0002' +
        Buffer.from('u1').toString('hex') +
        '0005' +
        Buffer.from('email').toString('hex'),
    );
  });

  it('reads the key version from the header without the key', () => {
    expect(sealedKeyVersion(Buffer.from(KNOWN, 'hex'))).toBe(7);
  });

  it('fails when any single byte of header, ciphertext or tag is flipped', () => {
    const sealed = Buffer.from(KNOWN, 'hex');
    for (let i = 0; i < sealed.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const bad = Buffer.from(sealed);
        bad[i] = bad[i]! ^ mask;
        expect(() => openValue(key, binding, bad), `byte ${i} ^ ${mask}`).toThrow(DecryptionError);
      }
    }
  });

  it('fails when any field of the binding differs', () => {
    const sealed = Buffer.from(KNOWN, 'hex');
    for (const field of ['tenantId', 'table', 'id', 'column'] as const) {
      for (const other of ['', binding[field] + 'x', binding[field].slice(1), binding[field].toUpperCase()]) {
        if (other === binding[field]) continue;
        expect(() => openValue(key, { ...binding, [field]: other }, sealed), `${field}=${other}`).toThrow(
          DecryptionError,
        );
      }
    }
  });

  it('fails with another key, when truncated, or with an unknown format version', () => {
    const sealed = Buffer.from(KNOWN, 'hex');
    const otherKey = Buffer.from(key);
    otherKey[0] = 0xff;
    expect(() => openValue(otherKey, binding, sealed)).toThrow(DecryptionError);
    expect(() => openValue(key, binding, sealed.subarray(0, sealed.length - 1))).toThrow(DecryptionError);
    expect(() => openValue(key, binding, sealed.subarray(0, 40))).toThrow(DecryptionError);
    const v2 = Buffer.from(sealed);
    v2[0] = 2;
    expect(() => openValue(key, binding, v2)).toThrow(/format version 2/);
  });

  it('round-trips any bytes under any binding, with a fresh salt and IV each time', () => {
    const text = fc.string({ unit: 'binary', maxLength: 40 });
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 1, max: 0xffffffff }),
        fc.record({ tenantId: text, table: text, id: text, column: text }),
        fc.uint8Array({ maxLength: 2048 }),
        (k, version, b, data) => {
          const a = sealValue(k, version, b, data);
          const again = sealValue(k, version, b, data);
          expect(a.equals(again)).toBe(false);
          expect(sealedKeyVersion(a)).toBe(version);
          expect(openValue(k, b, a).equals(Buffer.from(data))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never opens a value under a binding other than its own (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.uint8Array({ maxLength: 64 }), (t1, t2, data) => {
        fc.pre(t1 !== t2);
        const sealed = sealValue(key, 1, { ...binding, tenantId: t1 }, data);
        expect(() => openValue(key, { ...binding, tenantId: t2 }, sealed)).toThrow(DecryptionError);
      }),
      { numRuns: 200 },
    );
  });
});
