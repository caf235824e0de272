import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Rect } from '../layout/geometry.ts';
import { GridIndex } from './spatialIndex.ts';

const rect = fc.record({
  x: fc.integer({ min: -5000, max: 5000 }),
  y: fc.integer({ min: -5000, max: 5000 }),
  width: fc.integer({ min: 0, max: 800 }),
  height: fc.integer({ min: 0, max: 300 }),
});

const touches = (a: Rect, b: Rect) =>
  a.x <= b.x + b.width && b.x <= a.x + a.width && a.y <= b.y + b.height && b.y <= a.y + a.height;

describe('GridIndex', () => {
  it('finds exactly the items a brute-force scan finds, once each, in insertion order', () => {
    fc.assert(
      fc.property(
        fc.array(rect, { maxLength: 200 }),
        fc.array(rect, { minLength: 1, maxLength: 10 }),
        (items, views) => {
          const index = new GridIndex<number>(256);
          items.forEach((r, i) => index.insert(r, i));
          for (const view of views) {
            const expected = items.flatMap((r, i) => (touches(r, view) ? [i] : []));
            expect(index.query(view)).toEqual(expected);
          }
        },
      ),
    );
  });

  it('answers a query larger than the indexed area (zoomed far out)', () => {
    const index = new GridIndex<string>(100);
    index.insert({ x: 0, y: 0, width: 10, height: 10 }, 'a');
    index.insert({ x: 900, y: 900, width: 10, height: 10 }, 'b');
    expect(index.query({ x: -1e6, y: -1e6, width: 2e6, height: 2e6 })).toEqual(['a', 'b']);
  });

  it('finds zero-width items such as straight connectors', () => {
    const index = new GridIndex<string>(64);
    index.insert({ x: 50, y: 0, width: 0, height: 500 }, 'line');
    expect(index.query({ x: 40, y: 200, width: 20, height: 20 })).toEqual(['line']);
    expect(index.query({ x: 60, y: 200, width: 20, height: 20 })).toEqual([]);
  });
});
