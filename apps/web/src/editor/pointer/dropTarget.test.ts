import { describe, expect, it } from 'vitest';
import { indexTopics } from '../document/topicIndex.ts';
import { layoutDocument } from '../layout/layoutDocument.ts';
import type { LayoutKind } from '../layout/types.ts';
import { docFrom, fixedMeasure } from '../testing/fixtures.ts';
import { dropTarget } from './dropTarget.ts';

function setup(kind: LayoutKind = 'tree') {
  const doc = docFrom(['Root', ['A', ['A1'], ['A2']], ['B']]);
  const layout = layoutDocument(doc, kind, fixedMeasure);
  const index = indexTopics(doc);
  const at = (id: string, fx: number, fy: number) => {
    const b = layout.byId.get(id)!;
    const point = { x: b.x + b.width * fx, y: b.y + b.height * fy };
    return dropTarget(layout, index, 'A2', point, [b]);
  };
  return { at, layout, index };
}

describe('dropTarget', () => {
  it('drops into a topic from its middle', () => {
    expect(setup().at('B', 0.5, 0.5)).toMatchObject({ mode: 'child', parentId: 'B', index: 0 });
  });

  it('drops beside a topic near its top or bottom edge', () => {
    expect(setup().at('A1', 0.5, 0.1)).toMatchObject({ mode: 'before', parentId: 'A', index: 0 });
    expect(setup().at('B', 0.5, 0.9)).toMatchObject({ mode: 'after', parentId: 'Root', index: 2 });
  });

  it('uses the left and right edges in the org chart', () => {
    expect(setup('org').at('B', 0.05, 0.5)).toMatchObject({ mode: 'before', parentId: 'Root', index: 1 });
    expect(setup('org').at('B', 0.5, 0.05)).toMatchObject({ mode: 'child', parentId: 'B' });
  });

  it('never drops beside the central topic, nor into the dragged branch', () => {
    const { layout, index } = setup();
    const root = layout.byId.get('Root')!;
    expect(dropTarget(layout, index, 'A2', { x: root.x + 5, y: root.y + 1 }, [root])).toMatchObject({
      mode: 'child',
      parentId: 'Root',
    });
    const a1 = layout.byId.get('A1')!;
    expect(dropTarget(layout, index, 'A', { x: a1.x + 5, y: a1.y + 10 }, [a1])).toBeUndefined();
    expect(dropTarget(layout, index, 'A1', { x: a1.x + 5, y: a1.y + 10 }, [a1])).toBeUndefined();
    expect(dropTarget(layout, index, 'A1', { x: 0, y: 0 }, [])).toBeUndefined();
  });
});
