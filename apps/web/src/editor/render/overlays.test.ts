import { describe, expect, it } from 'vitest';
import { docFrom } from '../testing/fixtures.ts';
import { drawRelationships } from './overlays.ts';
import { buildScene } from './scene.ts';
import { TextLayoutCache } from './textLayout.ts';
import { TopicVisuals } from './topicStyle.ts';

/** A 2D context that records the drawing calls the overlay makes (name and first argument). */
function recordingContext(): { ctx: CanvasRenderingContext2D; calls: string[] } {
  const calls: string[] = [];
  const ctx = new Proxy(
    { measureText: (text: string) => ({ width: text.length * 6 }) },
    {
      get: (target, name) =>
        name in target
          ? target[name as keyof typeof target]
          : (...args: unknown[]) => calls.push(`${String(name)}:${String(args[0])}`),
      set: () => true,
    },
  ) as unknown as CanvasRenderingContext2D;
  return { ctx, calls };
}

describe('drawRelationships', () => {
  const doc = docFrom(['Root', ['A', ['A1']], ['B', ['B1']]], {
    relationships: [{ id: 'r1', fromId: 'A1', toId: 'B1', label: 'needs' }],
  });
  const scene = buildScene(doc, 'map', new TopicVisuals(new TextLayoutCache((_f, t) => t.length * 8)));
  const curve = scene.relationships[0]!;

  it('strokes the curve between the two topics, with an arrowhead and its label when legible', () => {
    const { ctx, calls } = recordingContext();
    drawRelationships(ctx, scene.relationships, scene.layout.bounds, 1);
    expect(calls).toContain(`bezierCurveTo:${curve.pieces[0]!.c1.x}`);
    expect(calls.filter((c) => c.startsWith('lineTo'))).toHaveLength(2); // the arrowhead's sides
    expect(calls).toContain('fillText:needs');
    // The curve leaves and reaches the borders of its topics' boxes.
    const from = scene.layout.byId.get('A1')!;
    const to = scene.layout.byId.get('B1')!;
    const onBorder = (p: { x: number; y: number }, b: typeof from) =>
      Math.abs(p.x - b.x) < 0.01 ||
      Math.abs(p.x - b.x - b.width) < 0.01 ||
      Math.abs(p.y - b.y) < 0.01 ||
      Math.abs(p.y - b.y - b.height) < 0.01;
    expect(onBorder(curve.p0, from)).toBe(true);
    expect(onBorder(curve.p3, to)).toBe(true);
  });

  it('draws nothing for a curve outside the painted area, and no label when it would be unreadable', () => {
    const { ctx, calls } = recordingContext();
    const far = { x: curve.bounds.x + 10_000, y: curve.bounds.y, width: 100, height: 100 };
    drawRelationships(ctx, scene.relationships, far, 1);
    expect(calls).toEqual([]);
    const zoomedOut = recordingContext();
    drawRelationships(zoomedOut.ctx, scene.relationships, scene.layout.bounds, 0.1);
    expect(zoomedOut.calls.some((c) => c.startsWith('fillText'))).toBe(false);
    expect(zoomedOut.calls.some((c) => c.startsWith('bezierCurveTo'))).toBe(true);
  });
});
