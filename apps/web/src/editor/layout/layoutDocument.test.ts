import { describe, expect, it } from 'vitest';
import type { MapDocument } from '@canopy/model';
import { generateMap } from '../demo/generateMap.ts';
import { docFrom, fixedMeasure, topicFrom } from '../testing/fixtures.ts';
import { intersects } from './geometry.ts';
import { layoutDocument } from './layoutDocument.ts';
import type { LayoutKind, MapLayout, TopicBox } from './types.ts';

const KINDS: LayoutKind[] = ['map', 'tree', 'org'];
const cx = (b: TopicBox) => b.x + b.width / 2;
const cy = (b: TopicBox) => b.y + b.height / 2;
const box = (layout: MapLayout, id: string) => {
  const b = layout.byId.get(id);
  if (!b) throw new Error(`no box for ${id}`);
  return b;
};

function overlaps(layout: MapLayout): [string, string][] {
  const found: [string, string][] = [];
  const sorted = [...layout.boxes].sort((a, b) => a.x - b.x);
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i]!;
    for (let j = i + 1; j < sorted.length && sorted[j]!.x < a.x + a.width; j++) {
      if (intersects(a, sorted[j]!)) found.push([a.id, sorted[j]!.id]);
    }
  }
  return found;
}

describe('layoutDocument', () => {
  const fourMains = docFrom(['Root', ['A', ['A1'], ['A2']], ['B'], ['C'], ['D', ['D1']]]);

  it('centres the central topic on the origin in every layout', () => {
    for (const kind of KINDS) {
      const root = box(layoutDocument(fourMains, kind, fixedMeasure), 'Root');
      expect([cx(root), cy(root)]).toEqual([0, 0]);
    }
  });

  it('puts main topics on both sides in the map layout, clockwise', () => {
    const layout = layoutDocument(fourMains, 'map', fixedMeasure);
    const root = box(layout, 'Root');
    const right = ['A', 'B'].map((id) => box(layout, id));
    const left = ['C', 'D'].map((id) => box(layout, id));
    for (const b of right) expect(b.x).toBeGreaterThan(root.x + root.width);
    for (const b of left) expect(b.x + b.width).toBeLessThan(root.x);
    // Right side reads top to bottom, the left side bottom to top.
    expect(cy(box(layout, 'A'))).toBeLessThan(cy(box(layout, 'B')));
    expect(cy(box(layout, 'C'))).toBeGreaterThan(cy(box(layout, 'D')));
    expect(right.map((b) => b.side)).toEqual(['right', 'right']);
    expect(left.map((b) => b.side)).toEqual(['left', 'left']);
  });

  it('grows left-side branches leftwards', () => {
    const layout = layoutDocument(fourMains, 'map', fixedMeasure);
    const d = box(layout, 'D');
    const d1 = box(layout, 'D1');
    expect(d1.x + d1.width).toBeLessThan(d.x);
    expect(d1.side).toBe('left');
  });

  it('puts every main topic on the right in the tree layout, in order', () => {
    const layout = layoutDocument(fourMains, 'tree', fixedMeasure);
    const root = box(layout, 'Root');
    const mains = ['A', 'B', 'C', 'D'].map((id) => box(layout, id));
    for (const b of mains) expect(b.x).toBeGreaterThan(root.x + root.width);
    const ys = mains.map(cy);
    expect([...ys].sort((a, b) => a - b)).toEqual(ys);
  });

  it('centres a parent on its children and keeps siblings apart', () => {
    const layout = layoutDocument(fourMains, 'tree', fixedMeasure);
    const a = box(layout, 'A');
    const a1 = box(layout, 'A1');
    const a2 = box(layout, 'A2');
    expect(cy(a)).toBeCloseTo((cy(a1) + cy(a2)) / 2);
    expect(a2.y).toBeGreaterThanOrEqual(a1.y + a1.height);
  });

  it('draws the org chart top-down, parents centred over their children', () => {
    const layout = layoutDocument(fourMains, 'org', fixedMeasure);
    const root = box(layout, 'Root');
    const mains = ['A', 'B', 'C', 'D'].map((id) => box(layout, id));
    for (const b of mains) {
      expect(b.y).toBeGreaterThan(root.y + root.height);
      expect(b.side).toBe('down');
    }
    const xs = mains.map(cx);
    expect([...xs].sort((p, q) => p - q)).toEqual(xs);
    expect(cx(box(layout, 'A'))).toBeCloseTo((cx(box(layout, 'A1')) + cx(box(layout, 'A2'))) / 2);
  });

  it.each(KINDS)('never overlaps two topics of a generated 2,000-topic map (%s)', (kind) => {
    const doc = generateMap({ topics: 2000, seed: 3, decorate: false });
    const layout = layoutDocument(doc, kind, fixedMeasure);
    expect(layout.boxes).toHaveLength(2000);
    expect(overlaps(layout)).toEqual([]);
  });

  it('hides the descendants of a collapsed topic and reports how many', () => {
    const doc = docFrom(['Root', ['A', ['A1', ['A1a'], ['A1b']], ['A2']]]);
    doc.root.children[0]!.collapsed = true;
    const layout = layoutDocument(doc, 'map', fixedMeasure);
    expect(layout.boxes.map((b) => b.id)).toEqual(['Root', 'A']);
    expect(box(layout, 'A').hiddenCount).toBe(4);
    expect(box(layout, 'Root').hiddenCount).toBe(0);
  });

  it('emits a connector from each parent to each visible child, attached on the facing sides', () => {
    const layout = layoutDocument(fourMains, 'map', fixedMeasure);
    expect(layout.connectors).toHaveLength(layout.boxes.length - 1);
    const toD1 = layout.connectors.find((c) => c.childId === 'D1')!;
    const d = box(layout, 'D');
    const d1 = box(layout, 'D1');
    expect(toD1.from).toEqual({ x: d.x, y: cy(d) });
    expect(toD1.to).toEqual({ x: d1.x + d1.width, y: cy(d1) });
  });

  it('lists parents before their children (drawing order)', () => {
    const layout = layoutDocument(generateMap({ topics: 300, seed: 5 }), 'map', fixedMeasure);
    const seen = new Set<string>();
    for (const b of layout.boxes) {
      if (b.parentId !== null) expect(seen.has(b.parentId)).toBe(true);
      seen.add(b.id);
    }
  });

  it('places floating topics at their position, and those without one below the map', () => {
    const doc: MapDocument = docFrom(['Root', ['A'], ['B']], {
      floating: [{ ...topicFrom(['F1', ['F1a']]), position: { x: 500, y: -300 } }, topicFrom(['F2'])],
    });
    const layout = layoutDocument(doc, 'map', fixedMeasure);
    const f1 = box(layout, 'F1');
    expect([cx(f1), cy(f1)]).toEqual([500, -300]);
    expect(f1.floating).toBe(true);
    expect(box(layout, 'F1a').x).toBeGreaterThan(f1.x + f1.width);
    const main = ['Root', 'A', 'B'].map((id) => box(layout, id));
    const f2 = box(layout, 'F2');
    expect(f2.y).toBeGreaterThan(Math.max(...main.map((b) => b.y + b.height)));
  });

  it('lays out a 5,000-deep chain without overflowing the stack', () => {
    let topic = topicFrom(['leaf']);
    for (let i = 0; i < 5000; i++) topic = { id: `n${i}`, text: 'n', children: [topic] };
    const doc = docFrom(['Root'], {});
    doc.root.children.push(topic);
    for (const kind of KINDS) expect(layoutDocument(doc, kind, fixedMeasure).boxes).toHaveLength(5002);
  });

  it('bounds every box', () => {
    const layout = layoutDocument(fourMains, 'map', fixedMeasure);
    for (const b of layout.boxes) {
      expect(b.x).toBeGreaterThanOrEqual(layout.bounds.x);
      expect(b.y).toBeGreaterThanOrEqual(layout.bounds.y);
      expect(b.x + b.width).toBeLessThanOrEqual(layout.bounds.x + layout.bounds.width);
      expect(b.y + b.height).toBeLessThanOrEqual(layout.bounds.y + layout.bounds.height);
    }
  });

  it('keeps room around a boundary for its frame and label', () => {
    const plain = docFrom(['Root', ['A', ['A1'], ['A2'], ['A3']]]);
    const bounded = docFrom(['Root', ['A', ['A1'], ['A2'], ['A3']]]);
    bounded.root.children[0]!.boundaries = [{ id: 'b', range: { from: 1, to: 1 } }];
    for (const kind of ['tree', 'org'] as const) {
      const before = layoutDocument(plain, kind, fixedMeasure);
      const after = layoutDocument(bounded, kind, fixedMeasure);
      const gap = (l: MapLayout, a: string, b: string) =>
        kind === 'org'
          ? box(l, b).x - (box(l, a).x + box(l, a).width)
          : box(l, b).y - (box(l, a).y + box(l, a).height);
      expect(gap(after, 'A1', 'A2')).toBe(gap(before, 'A1', 'A2') + 22);
      expect(gap(after, 'A2', 'A3')).toBe(gap(before, 'A2', 'A3') + 10);
    }
  });
});
