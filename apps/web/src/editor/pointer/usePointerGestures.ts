import { useRef, type MouseEvent, type PointerEvent, type RefObject } from 'react';
import type { TopicIndex } from '../document/topicIndex.ts';
import type { TopicBox } from '../layout/types.ts';
import type { DragFeedback } from '../render/canvasRenderer.ts';
import { badgeHitTest, hitTest, type Scene } from '../render/scene.ts';
import { panBy, screenToWorld, type ViewTransform } from '../render/viewTransform.ts';
import type { EditorStore } from '../store/editorStore.ts';
import type { Indicator, TopicVisual } from '../render/topicStyle.ts';
import { dropTarget } from './dropTarget.ts';
import { indicatorAt } from './indicatorHit.ts';

const DRAG_THRESHOLD = 3;

export interface PointerGestureOptions {
  readonly store: EditorStore;
  readonly viewRef: RefObject<ViewTransform>;
  readonly treeRef: RefObject<HTMLElement | null>;
  readonly dragFeedback: RefObject<DragFeedback | undefined>;
  readonly revealRef: RefObject<boolean>;
  /** The scene and topic index as last rendered. */
  readonly current: () => { scene: Scene; index: TopicIndex };
  readonly requestDraw: () => void;
  readonly select: (topicId: string) => void;
  readonly edit: (box: TopicBox) => void;
  /** The visual a box was drawn with (for its badges). */
  readonly visualOf: (box: TopicBox) => TopicVisual;
  /** A click on a topic's notes, link, tags or task badge: show that topic's details. */
  readonly openDetails: (topicId: string, badge: Indicator) => void;
}

/**
 * Mouse and touch on the map: drag a topic to move it (onto a topic: as its child; near its edge: beside it);
 * drag empty space, or with the middle button, to pan; a click without movement selects the topic under the
 * pointer (or expands a collapsed one through its count badge, or opens its details through a notes, link, tags
 * or task badge); a double-click edits.
 */
export function usePointerGestures(opts: PointerGestureOptions) {
  const drag = useRef<{ id: number; x: number; y: number; moved: boolean; topicId: string | null } | null>(
    null,
  );
  const onPointerDown = (e: PointerEvent<HTMLCanvasElement>) => {
    if (e.button !== 0 && e.button !== 1) return;
    e.currentTarget.setPointerCapture(e.pointerId);
    const box = e.button === 0 ? hitTest(opts.current().scene, worldAt(e)) : undefined;
    const topicId = box && box.parentId !== null ? box.id : null;
    drag.current = { id: e.pointerId, x: e.clientX, y: e.clientY, moved: false, topicId };
  };
  const onPointerMove = (e: PointerEvent<HTMLCanvasElement>) => {
    const d = drag.current;
    if (!d || d.id !== e.pointerId) return;
    const dx = e.clientX - d.x;
    const dy = e.clientY - d.y;
    if (!d.moved && Math.hypot(dx, dy) < DRAG_THRESHOLD) return;
    d.moved = true;
    if (d.topicId !== null) {
      const { scene: current, index: topics } = opts.current();
      const dragged = current.layout.byId.get(d.topicId);
      const world = worldAt(e);
      if (!dragged) return;
      const under = current.boxIndex.query({ x: world.x, y: world.y, width: 0, height: 0 });
      opts.dragFeedback.current = {
        ghost: { ...world, width: dragged.width, height: dragged.height },
        drop: dropTarget(current.layout, topics, d.topicId, world, under),
      };
      opts.requestDraw();
      return;
    }
    // Whole pixels only (the remainder waits for the next move), so the renderer can reuse the last frame.
    const stepX = Math.round(dx);
    const stepY = Math.round(dy);
    d.x += stepX;
    d.y += stepY;
    opts.viewRef.current = panBy(opts.viewRef.current, stepX, stepY);
    opts.requestDraw();
  };
  const onPointerUp = (e: PointerEvent<HTMLCanvasElement>) => {
    const d = drag.current;
    drag.current = null;
    if (!d) return;
    if (d.moved && d.topicId !== null) {
      const drop = opts.dragFeedback.current?.drop;
      opts.dragFeedback.current = undefined;
      if (drop && opts.store.move(d.topicId, drop.parentId, drop.index)) {
        opts.revealRef.current = true;
        opts.select(d.topicId);
      }
      opts.requestDraw();
      return;
    }
    if (d.moved || e.button !== 0) return;
    opts.treeRef.current?.focus({ preventScroll: true });
    const world = worldAt(e);
    const collapsed = badgeHitTest(opts.current().scene, world);
    if (collapsed) {
      opts.select(collapsed.id);
      opts.store.setCollapsed(collapsed.id, false);
      return;
    }
    const box = hitTest(opts.current().scene, world);
    if (!box) return;
    opts.select(box.id);
    const badge = indicatorAt(box, opts.visualOf(box), world);
    if (badge) opts.openDetails(box.id, badge);
  };
  const onPointerCancel = () => {
    drag.current = null;
    opts.dragFeedback.current = undefined;
    opts.requestDraw();
  };
  const onDoubleClick = (e: MouseEvent<HTMLCanvasElement>) => {
    const box = hitTest(opts.current().scene, worldAt(e));
    if (!box) return;
    opts.select(box.id);
    opts.edit(box);
  };
  const worldAt = (e: { clientX: number; clientY: number; currentTarget: HTMLCanvasElement }) => {
    const rect = e.currentTarget.getBoundingClientRect();
    return screenToWorld(opts.viewRef.current, { x: e.clientX - rect.left, y: e.clientY - rect.top });
  };

  return { onPointerDown, onPointerMove, onPointerUp, onPointerCancel, onDoubleClick };
}
