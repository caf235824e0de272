import type { Point, Rect } from '../layout/geometry.ts';

/** screen = world × scale + (x, y), in CSS pixels. Panning and zooming change only this, never the layout. */
export interface ViewTransform {
  readonly scale: number;
  readonly x: number;
  readonly y: number;
}

export const MIN_SCALE = 0.05;
export const MAX_SCALE = 4;

export function screenToWorld(view: ViewTransform, p: Point): Point {
  return { x: (p.x - view.x) / view.scale, y: (p.y - view.y) / view.scale };
}

export function worldToScreen(view: ViewTransform, p: Point): Point {
  return { x: p.x * view.scale + view.x, y: p.y * view.scale + view.y };
}

/** The world rectangle shown in a viewport of the given CSS size. */
export function visibleWorldRect(view: ViewTransform, width: number, height: number): Rect {
  return {
    x: -view.x / view.scale,
    y: -view.y / view.scale,
    width: width / view.scale,
    height: height / view.scale,
  };
}

export function panBy(view: ViewTransform, dx: number, dy: number): ViewTransform {
  return { ...view, x: view.x + dx, y: view.y + dy };
}

/** Zooms by `factor` keeping the world point under `anchor` (a screen point) where it is. */
export function zoomAt(view: ViewTransform, anchor: Point, factor: number): ViewTransform {
  const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, view.scale * factor));
  const k = scale / view.scale;
  return { scale, x: anchor.x - (anchor.x - view.x) * k, y: anchor.y - (anchor.y - view.y) * k };
}

/** Centres the world origin (the central topic) at the given scale. */
export function centredView(width: number, height: number, scale = 1): ViewTransform {
  return { scale, x: width / 2, y: height / 2 };
}

/** Fits `bounds` into the viewport with a margin, never zooming in past 1. */
export function fitView(bounds: Rect, width: number, height: number, margin = 40): ViewTransform {
  const scale = Math.min(
    1,
    Math.max(MIN_SCALE, Math.min((width - 2 * margin) / bounds.width, (height - 2 * margin) / bounds.height)),
  );
  return {
    scale,
    x: width / 2 - (bounds.x + bounds.width / 2) * scale,
    y: height / 2 - (bounds.y + bounds.height / 2) * scale,
  };
}

/**
 * Brings `box` into view: no change when it is already inside the margin, the smallest pan when it is partly
 * visible (so that stepping through neighbours does not jump around), and centred when it is off-screen
 * (a jump across a big map should land in the middle, with context on every side).
 */
export function revealRect(
  view: ViewTransform,
  box: Rect,
  width: number,
  height: number,
  margin = 48,
): ViewTransform {
  const left = box.x * view.scale + view.x;
  const top = box.y * view.scale + view.y;
  const right = left + box.width * view.scale;
  const bottom = top + box.height * view.scale;
  if (right < 0 || left > width || bottom < 0 || top > height) {
    return panBy(view, width / 2 - (left + right) / 2, height / 2 - (top + bottom) / 2);
  }
  let dx = 0;
  let dy = 0;
  if (right > width - margin) dx = width - margin - right;
  if (left + dx < margin) dx = margin - left;
  if (bottom > height - margin) dy = height - margin - bottom;
  if (top + dy < margin) dy = margin - top;
  return dx === 0 && dy === 0 ? view : panBy(view, dx, dy);
}
