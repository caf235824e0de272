import type { LayoutKind } from './layout/types.ts';
import { TOPIC_PANEL_ID, useTopicPanelOpen } from './panel/panelVisibility.ts';

interface Props {
  readonly kind: LayoutKind;
  readonly zoomPercent: number;
  readonly canUndo: boolean;
  readonly canRedo: boolean;
  readonly onKind: (kind: LayoutKind) => void;
  readonly onZoom: (action: 'zoomIn' | 'zoomOut' | 'zoomToFit') => void;
  readonly onUndo: () => void;
  readonly onRedo: () => void;
}

const KINDS: readonly { kind: LayoutKind; label: string }[] = [
  { kind: 'map', label: 'Map' },
  { kind: 'tree', label: 'Tree' },
  { kind: 'org', label: 'Org chart' },
];

export function EditorToolbar(props: Props) {
  const [panelOpen, setPanelOpen] = useTopicPanelOpen();
  return (
    <div className="editor-toolbar" role="toolbar" aria-label="Map tools">
      <div className="segmented" role="group" aria-label="Layout">
        {KINDS.map(({ kind, label }) => (
          <button
            key={kind}
            type="button"
            aria-pressed={props.kind === kind}
            onClick={() => props.onKind(kind)}
          >
            {label}
          </button>
        ))}
      </div>
      <div className="segmented" role="group" aria-label="Zoom">
        <button type="button" onClick={() => props.onZoom('zoomOut')} aria-label="Zoom out">
          −
        </button>
        <output className="zoom-level" aria-live="polite" aria-label="Zoom level">
          {props.zoomPercent}%
        </output>
        <button type="button" onClick={() => props.onZoom('zoomIn')} aria-label="Zoom in">
          +
        </button>
        <button type="button" onClick={() => props.onZoom('zoomToFit')}>
          Fit
        </button>
      </div>
      <div className="segmented" role="group" aria-label="History">
        <button type="button" onClick={props.onUndo} disabled={!props.canUndo}>
          Undo
        </button>
        <button type="button" onClick={props.onRedo} disabled={!props.canRedo}>
          Redo
        </button>
      </div>
      <button
        type="button"
        aria-pressed={panelOpen}
        aria-controls={TOPIC_PANEL_ID}
        aria-keyshortcuts="Alt+Enter"
        title="Topic details: notes, links, markers, task, tags (Alt+Enter)"
        onClick={() => setPanelOpen(!panelOpen)}
      >
        Details
      </button>
      <details className="shortcuts">
        <summary>Keyboard</summary>
        <dl>
          <dt>Enter</dt>
          <dd>new topic after (Shift+Enter: before)</dd>
          <dt>Tab / Insert</dt>
          <dd>new subtopic</dd>
          <dt>F2 or type</dt>
          <dd>edit text (Enter saves, Esc cancels)</dd>
          <dt>Delete</dt>
          <dd>remove topic and its branch</dd>
          <dt>Arrows</dt>
          <dd>move the selection</dd>
          <dt>Space</dt>
          <dd>collapse / expand</dd>
          <dt>Home</dt>
          <dd>central topic</dd>
          <dt>Ctrl/⌘ C, X, V</dt>
          <dd>copy, cut, paste a branch (as an outline)</dd>
          <dt>Ctrl/⌘ Z, Y</dt>
          <dd>undo, redo</dd>
          <dt>Ctrl/⌘ + − 0</dt>
          <dd>zoom in, out, fit</dd>
          <dt>Alt+Enter</dt>
          <dd>show / hide the details panel (Esc in it: back to the map)</dd>
          <dt>Ctrl/⌘ B, I, U, K</dt>
          <dd>in a note: bold, italic, underline, link</dd>
          <dt>Shift+Tab</dt>
          <dd>leave the map</dd>
        </dl>
      </details>
    </div>
  );
}
