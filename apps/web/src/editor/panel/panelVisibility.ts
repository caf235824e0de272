import { useCallback, useSyncExternalStore } from 'react';

/**
 * Whether the topic details panel is shown: one switch for the whole page, remembered across visits, read by the
 * toolbar button, the Alt+Enter shortcut and the panel itself. It is a view preference, not map state, so it lives
 * here rather than in the EditorStore (and a co-editor's panel is theirs). Hidden until first opened: a map opens
 * at its full width, and a big map does not pay for the panel's topic index until someone asks for details.
 */
const STORAGE_KEY = 'canopy.editor.topicPanel';
const listeners = new Set<() => void>();
let open: boolean | undefined;

function read(): boolean {
  if (open !== undefined) return open;
  try {
    open = globalThis.localStorage?.getItem(STORAGE_KEY) === 'open';
  } catch {
    open = false; // storage may be blocked (private mode, sandboxed frames)
  }
  return open;
}

export function isTopicPanelOpen(): boolean {
  return read();
}

export function setTopicPanelOpen(next: boolean): void {
  if (read() === next) return;
  open = next;
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, next ? 'open' : 'closed');
  } catch {
    // not remembered, still switched for this page
  }
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useTopicPanelOpen(): readonly [boolean, (open: boolean) => void] {
  const value = useSyncExternalStore(subscribe, isTopicPanelOpen, () => false);
  const set = useCallback((next: boolean) => setTopicPanelOpen(next), []);
  return [value, set] as const;
}

/** The shortcut that shows or hides the panel: Alt+Enter, the "properties" key of desktop apps. */
export function isTopicPanelShortcut(e: {
  key: string;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
}): boolean {
  return e.key === 'Enter' && e.altKey && !e.ctrlKey && !e.metaKey && !e.shiftKey;
}

/** The id the toolbar button's aria-controls points at. */
export const TOPIC_PANEL_ID = 'topic-details-panel';
