import { describe, expect, it } from 'vitest';
import {
  fitView,
  MAX_SCALE,
  revealRect,
  screenToWorld,
  visibleWorldRect,
  worldToScreen,
  zoomAt,
} from './viewTransform.ts';

describe('view transform', () => {
  it('round-trips between screen and world', () => {
    const view = { scale: 0.5, x: 100, y: -40 };
    expect(screenToWorld(view, worldToScreen(view, { x: 33, y: -7 }))).toEqual({ x: 33, y: -7 });
  });

  it('zooms around the anchor: the world point under the pointer stays put', () => {
    const view = { scale: 1, x: 300, y: 200 };
    const anchor = { x: 420, y: 90 };
    const before = screenToWorld(view, anchor);
    const zoomed = zoomAt(view, anchor, 1.7);
    expect(zoomed.scale).toBeCloseTo(1.7);
    const after = screenToWorld(zoomed, anchor);
    expect(after.x).toBeCloseTo(before.x);
    expect(after.y).toBeCloseTo(before.y);
    expect(zoomAt(view, anchor, 1000).scale).toBe(MAX_SCALE);
  });

  it('tells which world rectangle is visible', () => {
    expect(visibleWorldRect({ scale: 2, x: 100, y: 50 }, 800, 600)).toEqual({
      x: -50,
      y: -25,
      width: 400,
      height: 300,
    });
  });

  it('fits bounds into the viewport without zooming past 100%', () => {
    const fit = fitView({ x: -1000, y: -500, width: 2000, height: 1000 }, 1000, 600, 0);
    expect(fit.scale).toBeCloseTo(0.5);
    expect(worldToScreen(fit, { x: 0, y: 0 })).toEqual({ x: 500, y: 300 });
    expect(fitView({ x: 0, y: 0, width: 10, height: 10 }, 1000, 600).scale).toBe(1);
  });

  it('pans just enough to reveal a box, and not at all when it is visible', () => {
    const view = { scale: 1, x: 0, y: 0 };
    expect(revealRect(view, { x: 100, y: 100, width: 50, height: 20 }, 800, 600)).toBe(view);
    const moved = revealRect(view, { x: 780, y: 100, width: 50, height: 20 }, 800, 600, 10);
    expect(worldToScreen(moved, { x: 830, y: 0 }).x).toBe(790);
    expect(moved.y).toBe(0);
  });

  it('centres a box that is off-screen', () => {
    const moved = revealRect(
      { scale: 2, x: 0, y: 0 },
      { x: 5000, y: -3000, width: 100, height: 40 },
      800,
      600,
    );
    expect(worldToScreen(moved, { x: 5050, y: -2980 })).toEqual({ x: 400, y: 300 });
  });
});
