import { describe, expect, it } from 'vitest';
import { RandomPool } from './random-pool.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('RandomPool', () => {
  it('hands out fresh bytes each time, across refills and for requests larger than the pool', () => {
    const pool = new RandomPool(16);
    const seen = new Set<string>();
    for (const size of [5, 11, 16, 3, 40, 28, 28, 28]) {
      const out = new Uint8Array(size);
      pool.fill(out);
      // Bytes wiped before they were copied out would show as zeros here.
      for (let i = 0; i + 3 <= size; i += 3) {
        const window = hex(out.subarray(i, i + 3));
        expect(window).not.toBe('000000');
      }
      seen.add(hex(out));
    }
    expect(seen.size).toBe(8);
  });

  it('never hands the same pool bytes to two callers', () => {
    const pool = new RandomPool(4096);
    const a = new Uint8Array(28);
    const b = new Uint8Array(28);
    pool.fill(a);
    pool.fill(b);
    expect(hex(a)).not.toBe(hex(b));
    const many = Array.from({ length: 500 }, () => {
      const v = new Uint8Array(28);
      pool.fill(v);
      return hex(v);
    });
    expect(new Set(many).size).toBe(500);
  });

  it('refuses a pool of no size', () => {
    expect(() => new RandomPool(0)).toThrow(RangeError);
  });
});
