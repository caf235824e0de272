import { describe, expect, it } from 'vitest';
import { answerKey, tokenHash } from './answer-binding.ts';
import { CredentialCache } from './credential-cache.ts';

describe('the credential cache of the validation route', () => {
  it('derives the digest and MAC key of a bearer credential, and ignores other headers', () => {
    const cache = new CredentialCache(() => 0);
    const derived = cache.of('Bearer abc.def');
    expect(derived).toMatchObject({
      credential: 'abc.def',
      digest: tokenHash('abc.def'),
      rateKey: `lic:${tokenHash('abc.def')}`,
    });
    expect(derived?.macKey.export()).toEqual(answerKey('abc.def').export());
    expect(derived?.macKey.export()).not.toEqual(answerKey('abc.deg').export());
    expect(cache.of(undefined)).toBeUndefined();
    expect(cache.of('Basic dXNlcjpwYXNz')).toBeUndefined();
  });

  it('derives again once its TTL has passed, or when the clock moved back', () => {
    let now = 1_000;
    const cache = new CredentialCache(() => now, 5_000);
    const first = cache.of('Bearer t');
    now += 4_999;
    expect(cache.of('Bearer t')).toBe(first);
    now += 1;
    const second = cache.of('Bearer t');
    expect(second).not.toBe(first);
    expect(second).toEqual(first);
    now -= 10;
    expect(cache.of('Bearer t')).not.toBe(second);
  });
});
