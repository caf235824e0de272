import {
  useCallback,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
  type KeyboardEvent,
} from 'react';
import { AccessibleTopicTree } from './a11y/AccessibleTopicTree.tsx';
import type { Collaborator } from './collab/presence.ts';
import { PresenceLayer, presenceMarks } from './collab/presenceOverlay.ts';
import './collab/presence.css';
import { isWriteCommand, withoutWrites } from './collab/readOnly.ts';
import { indexTopics, pathTo } from './document/topicIndex.ts';
import { EditorToolbar } from './EditorToolbar.tsx';
import { commandForKey, detectPlatform, type EditorCommand } from './keyboard/commands.ts';
import { executeCommand, finishEdit, type EditSession, type ViewAction } from './keyboard/executeCommand.ts';
import { useBranchClipboard } from './keyboard/useBranchClipboard.ts';
import type { LayoutKind, MapLayout } from './layout/types.ts';
import type { ImageUploader } from './panel/ImageSection.tsx';
import { TopicSidePanel, type PanelSectionName } from './panel/TopicSidePanel.tsx';
import { setTopicPanelOpen } from './panel/panelVisibility.ts';
import { createCanvasTextMeasure } from './render/browserMeasure.ts';
import { usePointerGestures } from './pointer/usePointerGestures.ts';
import { CanvasRenderer, type DragFeedback, type FrameStats } from './render/canvasRenderer.ts';
import { ImageCache, type ImageUrlResolver } from './render/imageCache.ts';
import { buildScene, type Scene } from './render/scene.ts';
import { TextLayoutCache } from './render/textLayout.ts';
import { TopicVisuals, type Indicator } from './render/topicStyle.ts';
import {
  centredView,
  fitView,
  revealRect,
  worldToScreen,
  zoomAt,
  type ViewTransform,
} from './render/viewTransform.ts';
import type { EditorStore } from './store/editorStore.ts';
import { TopicTextEditor } from './TopicTextEditor.tsx';

export interface MapEditorProps {
  readonly store: EditorStore;
  readonly resolveImage: ImageUrlResolver;
  readonly initialLayout?: LayoutKind;
  /** Called after every painted frame, with what it cost (the status line, the benchmark). */
  readonly onFrame?: (stats: FrameStats) => void;
  /** Viewing only (a viewer's role): navigation, zoom and copy work; nothing that changes the map is offered. */
  readonly readOnly?: boolean;
  /** Other people in the map; their selections are drawn as rings with their names. */
  readonly collaborators?: readonly Collaborator[];
  /** Called when the (shown) selection changes, e.g. to tell the others. */
  readonly onSelectionChange?: (topicId: string) => void;
  /** Stores an image for a topic (the side panel's Image section); without it images cannot be added. */
  readonly uploadImage?: ImageUploader;
}

const NOBODY: readonly Collaborator[] = [];

const ZOOM_STEP = 1.25;

/**
 * The map editor: a canvas painted by CanvasRenderer, a parallel ARIA tree that holds the keyboard focus, and the
 * in-place text field. React renders only when the document, the layout kind, the selection or the edit change;
 * panning and zooming update a ref and repaint on the next animation frame without rendering React.
 */
export function MapEditor({
  store,
  resolveImage,
  initialLayout = 'map',
  onFrame,
  readOnly = false,
  collaborators = NOBODY,
  onSelectionChange,
  uploadImage,
}: MapEditorProps) {
  const doc = useSyncExternalStore(store.subscribe, store.getDocument);
  const [kind, setKind] = useState<LayoutKind>(initialLayout);
  const [selectedId, setSelectedId] = useState(doc.root.id);
  const [edit, setEdit] = useState<EditSession | null>(null);
  const [zoomPercent, setZoomPercent] = useState(100);
  const [panelReveal, setPanelReveal] = useState<{ topicId: string; section: PanelSectionName }>();

  const visuals = useMemo(() => new TopicVisuals(new TextLayoutCache(createCanvasTextMeasure())), []);
  const scene = useMemo(() => buildScene(doc, kind, visuals), [doc, kind, visuals]);
  const index = useMemo(() => indexTopics(doc), [doc]);
  const selected = visibleSelection(scene.layout, index, selectedId, doc.root.id);
  const marks = useMemo(
    () => presenceMarks(collaborators, scene.layout, index),
    [collaborators, scene, index],
  );

  const surfaceRef = useRef<HTMLDivElement | null>(null);
  const canvasRef = useRef<HTMLCanvasElement | null>(null);
  const treeRef = useRef<HTMLDivElement | null>(null);
  const fieldRef = useRef<HTMLTextAreaElement | null>(null);
  const rendererRef = useRef<CanvasRenderer | null>(null);
  const presenceRef = useRef<PresenceLayer | null>(null);
  const viewRef = useRef<ViewTransform>({ scale: 1, x: 0, y: 0 });
  const sizeRef = useRef({ width: 0, height: 0 });
  const frameRef = useRef(0);
  const revealRef = useRef(false);
  const shownKindRef = useRef<LayoutKind | null>(null);
  const dragFeedback = useRef<DragFeedback | undefined>(undefined);
  const drawState = useRef({ scene, selected, edit, onFrame, index, marks });
  drawState.current = { scene, selected, edit, onFrame, index, marks };

  const draw = useCallback(() => {
    const renderer = rendererRef.current;
    if (!renderer) return;
    const s = drawState.current;
    const stats = renderer.render({
      scene: s.scene,
      view: viewRef.current,
      selectedId: s.selected,
      editingId: s.edit?.topicId ?? null,
      drag: dragFeedback.current,
    });
    presenceRef.current?.draw(s.marks, s.scene.layout, viewRef.current);
    placeField(fieldRef.current, s.scene, s.edit, viewRef.current, visuals);
    s.onFrame?.(stats);
  }, [visuals]);

  const requestDraw = useCallback(() => {
    if (frameRef.current !== 0) return;
    frameRef.current = requestAnimationFrame(() => {
      frameRef.current = 0;
      draw();
    });
  }, [draw]);

  const setView = useCallback(
    (view: ViewTransform) => {
      viewRef.current = view;
      setZoomPercent(Math.round(view.scale * 100));
      requestDraw();
    },
    [requestDraw],
  );

  // Create the renderer once and keep the canvas sized to its box.
  useLayoutEffect(() => {
    const canvas = canvasRef.current!;
    const surface = surfaceRef.current!;
    const images = new ImageCache(resolveImage, () => {
      rendererRef.current?.invalidate();
      requestDraw();
    });
    rendererRef.current = new CanvasRenderer(canvas, visuals, images);
    const resize = () => {
      const { width, height } = surface.getBoundingClientRect();
      sizeRef.current = { width, height };
      rendererRef.current?.resize(width, height, window.devicePixelRatio || 1);
      presenceRef.current?.resize(width, height, window.devicePixelRatio || 1);
      if (shownKindRef.current === null) {
        shownKindRef.current = drawState.current.scene.layout.kind;
        viewRef.current = openingView(drawState.current.scene.layout, width, height);
        setZoomPercent(Math.round(viewRef.current.scale * 100));
      }
      draw();
    };
    resize();
    const observer = new ResizeObserver(resize);
    observer.observe(surface);
    return () => {
      observer.disconnect();
      cancelAnimationFrame(frameRef.current);
      frameRef.current = 0;
      rendererRef.current = null;
    };
  }, [draw, requestDraw, resolveImage, visuals]);

  // The others' layer exists only while someone else is here: editing alone composites no extra canvas.
  const attachPresence = useCallback((canvas: HTMLCanvasElement | null) => {
    presenceRef.current = canvas ? new PresenceLayer(canvas) : null;
    const { width, height } = sizeRef.current;
    presenceRef.current?.resize(width, height, window.devicePixelRatio || 1);
  }, []);

  // Repaint right after React commits a new scene, selection or edit, so the canvas never lags the DOM.
  useLayoutEffect(() => {
    const { width, height } = sizeRef.current;
    if (shownKindRef.current !== null && shownKindRef.current !== scene.layout.kind) {
      shownKindRef.current = scene.layout.kind;
      viewRef.current = openingView(scene.layout, width, height);
      setZoomPercent(Math.round(viewRef.current.scale * 100));
    }
    if (revealRef.current) {
      revealRef.current = false;
      const box = scene.layout.byId.get(selected);
      if (box) viewRef.current = revealRect(viewRef.current, box, width, height);
    }
    draw();
  }, [scene, selected, edit, marks, draw]);

  useEffect(() => onSelectionChange?.(selected), [selected, onSelectionChange]);

  // Wheel zoom needs a non-passive listener to keep the page from scrolling.
  useEffect(() => {
    const canvas = canvasRef.current!;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const rect = canvas.getBoundingClientRect();
      const unit = e.deltaMode === 1 ? 0.05 : 0.0015;
      const factor = Math.exp(-e.deltaY * unit * (e.ctrlKey ? 4 : 1));
      setView(zoomAt(viewRef.current, { x: e.clientX - rect.left, y: e.clientY - rect.top }, factor));
    };
    canvas.addEventListener('wheel', onWheel, { passive: false });
    return () => canvas.removeEventListener('wheel', onWheel);
  }, [setView]);

  const applyViewAction = useCallback(
    (action: ViewAction) => {
      const { width, height } = sizeRef.current;
      const centre = { x: width / 2, y: height / 2 };
      if (action === 'zoomToFit') setView(fitView(drawState.current.scene.layout.bounds, width, height));
      else setView(zoomAt(viewRef.current, centre, action === 'zoomIn' ? ZOOM_STEP : 1 / ZOOM_STEP));
    },
    [setView],
  );

  const run = useCallback(
    (command: EditorCommand) => {
      if (readOnly && isWriteCommand(command)) return;
      const outcome = executeCommand(
        store,
        drawState.current.scene.layout,
        drawState.current.selected,
        command,
      );
      revealRef.current = outcome.reveal;
      setSelectedId(outcome.selectedId);
      if (outcome.edit) setEdit(outcome.edit);
      if (outcome.view) applyViewAction(outcome.view);
    },
    [store, applyViewAction, readOnly],
  );

  useBranchClipboard(store, treeRef, () => drawState.current.selected, run);

  const platform = useMemo(() => detectPlatform(navigator.platform || navigator.userAgent), []);
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (edit) return;
    const command = commandForKey(e, platform);
    if (!command) return;
    e.preventDefault();
    run(command);
  };

  const onFinishEdit = (text: string | null) => {
    if (edit) finishEdit(store, edit, text);
    setEdit(null);
    revealRef.current = true;
    treeRef.current?.focus({ preventScroll: true });
  };

  const gestureStore = useMemo(() => (readOnly ? withoutWrites(store) : store), [store, readOnly]);
  const pointer = usePointerGestures({
    store: gestureStore,
    viewRef,
    treeRef,
    dragFeedback,
    revealRef,
    current: () => drawState.current,
    requestDraw,
    select: setSelectedId,
    edit: (box) => {
      if (!readOnly) setEdit({ topicId: box.id, initialText: box.topic.text, replace: false, isNew: false });
    },
    visualOf: (box) => visuals.get(box.topic, box.depth),
    openDetails: (topicId, badge) => {
      setPanelReveal({ topicId, section: BADGE_SECTION[badge] });
      setTopicPanelOpen(true);
    },
  });
  return (
    <div className="map-editor">
      <EditorToolbar
        kind={kind}
        zoomPercent={zoomPercent}
        canUndo={!readOnly && store.canUndo()}
        canRedo={!readOnly && store.canRedo()}
        onKind={setKind}
        onZoom={applyViewAction}
        onUndo={() => run({ type: 'undo' })}
        onRedo={() => run({ type: 'redo' })}
      />
      <div className="editor-surface" ref={surfaceRef}>
        <canvas
          ref={canvasRef}
          className="map-canvas"
          aria-hidden="true"
          onPointerDown={pointer.onPointerDown}
          onPointerMove={pointer.onPointerMove}
          onPointerUp={pointer.onPointerUp}
          onPointerCancel={pointer.onPointerCancel}
          onDoubleClick={pointer.onDoubleClick}
        />
        {collaborators.length > 0 && (
          <canvas ref={attachPresence} className="presence-canvas" aria-hidden="true" />
        )}
        <AccessibleTopicTree
          doc={doc}
          index={index}
          selectedId={selected}
          label={`Map: ${doc.title}`}
          describedBy="map-keys-help"
          onKeyDown={onKeyDown}
          treeRef={(el) => (treeRef.current = el)}
        />
        {edit && (
          <TopicTextEditor
            key={edit.topicId}
            edit={edit}
            label="Topic text"
            fieldRef={(el) => {
              fieldRef.current = el;
              placeField(el, scene, edit, viewRef.current, visuals);
            }}
            onFinish={onFinishEdit}
          />
        )}
      </div>
      <TopicSidePanel
        store={store}
        topicId={selected}
        readOnly={readOnly}
        {...(uploadImage ? { uploadImage } : {})}
        {...(panelReveal ? { reveal: panelReveal } : {})}
        onSelectTopic={(id) => {
          revealRef.current = true;
          setSelectedId(id);
        }}
      />
      <p id="map-keys-help" className="visually-hidden">
        Arrow keys move between topics. Enter adds a topic after this one, Tab adds a subtopic, F2 or typing
        edits the text, Space collapses or expands, Delete removes the topic, Control Z undoes. Shift Tab
        leaves the map.
      </p>
      <p className="editor-status" aria-live="off">
        {index.size.toLocaleString()} topics · {kind === 'org' ? 'org chart' : kind} layout
      </p>
    </div>
  );
}

/** The panel section a canvas badge stands for. */
const BADGE_SECTION: Record<Indicator, PanelSectionName> = {
  notes: 'notes',
  link: 'links',
  tags: 'tags',
  task: 'task',
};

/** The selection, or its nearest ancestor that is visible (a collapse or a remote change may hide it). */
function visibleSelection(
  layout: MapLayout,
  index: ReturnType<typeof indexTopics>,
  selectedId: string,
  rootId: string,
): string {
  if (layout.byId.has(selectedId)) return selectedId;
  const path = index.has(selectedId) ? pathTo(index, selectedId) : [];
  for (let i = path.length - 1; i >= 0; i--) if (layout.byId.has(path[i]!)) return path[i]!;
  return rootId;
}

/** How a map opens: all of it if it fits legibly, otherwise the central topic at 100%. */
function openingView(layout: MapLayout, width: number, height: number): ViewTransform {
  const fit = fitView(layout.bounds, width, height);
  if (fit.scale >= 0.6) return fit;
  const root = layout.boxes[0];
  const view = centredView(width, height, 1);
  if (!root) return view;
  if (layout.kind === 'tree') return { ...view, x: 48 - root.x };
  if (layout.kind === 'org') return { ...view, y: 48 - root.y };
  return view;
}

/** Keeps the text field over its topic, scaled with the view. */
function placeField(
  field: HTMLTextAreaElement | null,
  scene: Scene,
  edit: EditSession | null,
  view: ViewTransform,
  visuals: TopicVisuals,
): void {
  if (!field || !edit) return;
  const box = scene.layout.byId.get(edit.topicId);
  if (!box) return;
  const visual = visuals.get(box.topic, box.depth);
  const at = worldToScreen(view, box);
  const s = view.scale;
  const style = field.style;
  style.font = visual.font;
  style.fontSize = `${visual.fontSize * s}px`;
  style.lineHeight = `${visual.lineHeight * s}px`;
  style.left = `${at.x}px`;
  style.top = `${at.y}px`;
  style.width = `${Math.max(box.width * s, 180)}px`;
  style.padding = `${visual.padY * s}px ${visual.padX * s}px`;
  style.height = 'auto';
  style.height = `${Math.max(field.scrollHeight, box.height * s)}px`;
}
