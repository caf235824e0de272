import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MapDocument, Topic } from '@canopy/model';
import { fixedMeasure } from '../testing/fixtures.ts';
import { intersects } from './geometry.ts';
import { layoutDocument } from './layoutDocument.ts';
import type { LayoutKind } from './types.ts';

/** Random trees: shapes from a list of child counts, texts of random length, some branches collapsed. */
const documents = fc
  .record({
    shape: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 120 }),
    texts: fc.array(fc.string({ maxLength: 30 }), { minLength: 1, maxLength: 50 }),
    collapsedEvery: fc.integer({ min: 0, max: 9 }),
  })
  .map(({ shape, texts, collapsedEvery }): MapDocument => {
    let n = 0;
    const make = (): Topic => {
      const id = `t${n}`;
      return { id, text: texts[n++ % texts.length]!, children: [] };
    };
    const root = make();
    const queue = [root];
    for (const count of shape) {
      const parent = queue.shift();
      if (!parent) break;
      for (let i = 0; i < count; i++) {
        const child = make();
        parent.children.push(child);
        queue.push(child);
      }
      if (collapsedEvery > 0 && n % collapsedEvery === 0 && parent !== root) parent.collapsed = true;
    }
    return { schemaVersion: 1, title: 'random', root, floating: [], relationships: [] };
  });

function visibleIds(topic: Topic, out: string[] = []): string[] {
  out.push(topic.id);
  if (!topic.collapsed) for (const c of topic.children) visibleIds(c, out);
  return out;
}

describe('layoutDocument (properties)', () => {
  it.each<LayoutKind>(['map', 'tree', 'org'])(
    '%s: every visible topic gets one box, no two boxes overlap, each child sits on its side of the parent',
    (kind) => {
      fc.assert(
        fc.property(documents, (doc) => {
          const layout = layoutDocument(doc, kind, fixedMeasure);
          expect(layout.boxes.map((b) => b.id).sort()).toEqual(visibleIds(doc.root).sort());
          for (let i = 0; i < layout.boxes.length; i++) {
            for (let j = i + 1; j < layout.boxes.length; j++) {
              expect(intersects(layout.boxes[i]!, layout.boxes[j]!)).toBe(false);
            }
          }
          for (const box of layout.boxes) {
            if (box.parentId === null) continue;
            const parent = layout.byId.get(box.parentId)!;
            if (box.side === 'right') expect(box.x).toBeGreaterThan(parent.x + parent.width);
            if (box.side === 'left') expect(box.x + box.width).toBeLessThan(parent.x);
            if (box.side === 'down') expect(box.y).toBeGreaterThan(parent.y + parent.height);
          }
        }),
        { numRuns: 60 },
      );
    },
  );
});
