import { describe, expect, it } from 'vitest';
import { docFrom } from '../testing/fixtures.ts';
import { badgeHitTest, buildScene, hitTest, splitCubic, BRANCH_PALETTE } from './scene.ts';
import { TextLayoutCache } from './textLayout.ts';
import { TopicVisuals } from './topicStyle.ts';

const visuals = () => new TopicVisuals(new TextLayoutCache((_font, text) => text.length * 8));

describe('buildScene', () => {
  const doc = docFrom(['Root', ['A', ['A1']], ['B']], {
    relationships: [
      { id: 'r1', fromId: 'A1', toId: 'B', label: 'needs' },
      { id: 'r2', fromId: 'A1', toId: 'gone' },
    ],
  });

  it('gives each main branch its own colour and its descendants the same', () => {
    const scene = buildScene(doc, 'map', visuals());
    expect(scene.branchColor.get('A')).toBe(BRANCH_PALETTE[0]);
    expect(scene.branchColor.get('A1')).toBe(BRANCH_PALETTE[0]);
    expect(scene.branchColor.get('B')).toBe(BRANCH_PALETTE[1]);
  });

  it('draws relationships between visible topics only', () => {
    const scene = buildScene(doc, 'map', visuals());
    expect(scene.relationships.map((r) => r.id)).toEqual(['r1']);
  });

  it('hit-tests the topic under a world point', () => {
    const scene = buildScene(doc, 'map', visuals());
    const a1 = scene.layout.byId.get('A1')!;
    expect(hitTest(scene, { x: a1.x + 2, y: a1.y + 2 })?.id).toBe('A1');
    expect(hitTest(scene, { x: a1.x - 5, y: a1.y - 5 })).toBeUndefined();
  });

  it('reuses the measurement of unchanged topics after an edit', () => {
    const v = visuals();
    const first = v.get(doc.root.children[1]!, 1);
    expect(v.get(doc.root.children[1]!, 1)).toBe(first);
    expect(v.get({ ...doc.root.children[1]!, text: 'B longer' }, 1)).not.toBe(first);
  });
});

describe('splitCubic', () => {
  it('cuts a long curve into contiguous pieces with growing dash offsets', () => {
    const p0 = { x: 0, y: 0 };
    const p3 = { x: 10_000, y: 0 };
    const pieces = splitCubic(p0, { x: 3000, y: 2000 }, { x: 7000, y: 2000 }, p3);
    expect(pieces.length).toBeGreaterThan(20);
    expect(pieces[0]!.p0).toEqual(p0);
    expect(pieces.at(-1)!.p3.x).toBeCloseTo(p3.x);
    for (let i = 1; i < pieces.length; i++) {
      expect(pieces[i]!.p0.x).toBeCloseTo(pieces[i - 1]!.p3.x);
      expect(pieces[i]!.p0.y).toBeCloseTo(pieces[i - 1]!.p3.y);
      expect(pieces[i]!.offset).toBeGreaterThan(pieces[i - 1]!.offset);
    }
  });

  it('keeps a short curve whole', () => {
    expect(splitCubic({ x: 0, y: 0 }, { x: 10, y: 10 }, { x: 20, y: 10 }, { x: 30, y: 0 })).toHaveLength(1);
  });
});

describe('badgeHitTest', () => {
  it('finds the collapsed topic whose count badge is under the point', () => {
    const doc = docFrom(['Root', ['A', ['A1'], ['A2']], ['B']]);
    doc.root.children[0]!.collapsed = true;
    const scene = buildScene(doc, 'tree', visuals());
    const a = scene.layout.byId.get('A')!;
    expect(badgeHitTest(scene, { x: a.x + a.width + 10, y: a.y + a.height / 2 })?.id).toBe('A');
    expect(badgeHitTest(scene, { x: a.x + 2, y: a.y + 2 })).toBeUndefined();
  });
});

describe('boundaries', () => {
  it('surround the visible subtrees of the child range they cover', () => {
    const doc = docFrom(['Root', ['A', ['A1', ['A1a']], ['A2'], ['A3']]]);
    doc.root.children[0]!.boundaries = [{ id: 'b1', range: { from: 0, to: 1 }, label: 'Scope' }];
    const scene = buildScene(doc, 'tree', visuals());
    expect(scene.boundaries).toHaveLength(1);
    const { rect, label } = scene.boundaries[0]!;
    expect(label).toBe('Scope');
    for (const id of ['A1', 'A1a', 'A2']) {
      const b = scene.layout.byId.get(id)!;
      expect(b.x).toBeGreaterThan(rect.x);
      expect(b.y).toBeGreaterThan(rect.y);
      expect(b.x + b.width).toBeLessThan(rect.x + rect.width);
      expect(b.y + b.height).toBeLessThan(rect.y + rect.height);
    }
    const a3 = scene.layout.byId.get('A3')!;
    expect(a3.y).toBeGreaterThan(rect.y + rect.height);
  });

  it('are not drawn while their topic is collapsed', () => {
    const doc = docFrom(['Root', ['A', ['A1'], ['A2']]]);
    doc.root.children[0]!.boundaries = [{ id: 'b1', range: { from: 0, to: 1 } }];
    doc.root.children[0]!.collapsed = true;
    expect(buildScene(doc, 'map', visuals()).boundaries).toEqual([]);
  });
});
