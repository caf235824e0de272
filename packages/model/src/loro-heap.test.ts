import { describe, expect, it } from 'vitest';
import { LoroDoc } from 'loro-crdt';
import { HEADROOM, keepLoroHeadroom, loroHeapSize } from './loro-heap.ts';

describe('keepLoroHeadroom (Node build of loro-crdt)', () => {
  it('finds the allocator', () => {
    expect(loroHeapSize()).toBeGreaterThan(0);
  });

  it('once the memory grew, grows it by the headroom in one step, and documents then fit in it', () => {
    const docs: LoroDoc[] = [];
    const add = () => {
      const doc = new LoroDoc();
      doc.getText('t').insert(0, `document ${docs.length} `.repeat(200));
      doc.commit();
      docs.push(doc);
    };
    try {
      keepLoroHeadroom();
      // Small documents until the memory grows (as a live map's state does).
      const start = loroHeapSize()!;
      while (loroHeapSize() === start && docs.length < 50_000) add();
      const grown = loroHeapSize()!;
      expect(grown).toBeGreaterThan(start);
      keepLoroHeadroom();
      const roomy = loroHeapSize()!;
      expect(roomy - grown).toBeGreaterThanOrEqual(HEADROOM / 2);
      // Nothing grew since: nothing to do.
      keepLoroHeadroom();
      expect(loroHeapSize()).toBe(roomy);
      // A few hundred more documents (well under the headroom) grow nothing.
      for (let i = 0; i < 200; i++) add();
      expect(loroHeapSize()).toBe(roomy);
    } finally {
      for (const doc of docs) doc.free();
    }
  });
});
