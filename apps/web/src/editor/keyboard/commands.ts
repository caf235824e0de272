import type { Topic } from '@canopy/model';

export type Direction = 'left' | 'right' | 'up' | 'down';

export type EditorCommand =
  | { type: 'addSibling'; before: boolean }
  | { type: 'addChild' }
  | { type: 'edit'; initialText?: string }
  | { type: 'remove' }
  | { type: 'navigate'; direction: Direction }
  | { type: 'toggleCollapse' }
  | { type: 'selectRoot' }
  | { type: 'undo' }
  | { type: 'redo' }
  | { type: 'zoomIn' }
  | { type: 'zoomOut' }
  | { type: 'zoomToFit' }
  /** From the browser's paste event (Ctrl/Cmd+V): the branches to insert under the selection. */
  | { type: 'paste'; branches: readonly Topic[] };

/** The parts of a KeyboardEvent the mapping looks at (so it can be tested without a DOM). */
export interface KeyInput {
  readonly key: string;
  readonly ctrlKey: boolean;
  readonly metaKey: boolean;
  readonly shiftKey: boolean;
  readonly altKey: boolean;
  readonly isComposing?: boolean;
}

export type Platform = 'mac' | 'other';

const ARROWS: Record<string, Direction> = {
  ArrowLeft: 'left',
  ArrowRight: 'right',
  ArrowUp: 'up',
  ArrowDown: 'down',
};

/**
 * Maps a key press on the map (not while editing text) to an editor command, as mind-map users expect:
 * Enter sibling (Shift+Enter before), Tab or Insert subtopic, F2 or typing edits, Delete/Backspace removes,
 * arrows move the selection, Space collapses/expands, Home selects the central topic, Ctrl/Cmd+Z undo,
 * Ctrl/Cmd+Y or Ctrl/Cmd+Shift+Z redo, Ctrl/Cmd +/−/0 zoom. Anything else returns null and is left to the browser
 * (Shift+Tab, for instance, still moves focus out of the map).
 */
export function commandForKey(e: KeyInput, platform: Platform): EditorCommand | null {
  if (e.isComposing) return null;
  const mod = platform === 'mac' ? e.metaKey : e.ctrlKey;
  const otherMod = platform === 'mac' ? e.ctrlKey : e.metaKey;
  if (otherMod) return null;
  if (mod && !e.altKey) {
    const key = e.key.toLowerCase();
    if (key === 'z') return e.shiftKey ? { type: 'redo' } : { type: 'undo' };
    if (key === 'y' && !e.shiftKey) return { type: 'redo' };
    if (key === '=' || key === '+') return { type: 'zoomIn' };
    if (key === '-') return { type: 'zoomOut' };
    if (key === '0') return { type: 'zoomToFit' };
    return null;
  }
  if (mod || e.altKey) return null;
  const direction = ARROWS[e.key];
  if (direction) return e.shiftKey ? null : { type: 'navigate', direction };
  switch (e.key) {
    case 'Enter':
      return { type: 'addSibling', before: e.shiftKey };
    case 'Tab':
      return e.shiftKey ? null : { type: 'addChild' };
    case 'Insert':
      return { type: 'addChild' };
    case 'F2':
      return { type: 'edit' };
    case 'Delete':
    case 'Backspace':
      return { type: 'remove' };
    case ' ':
      return { type: 'toggleCollapse' };
    case 'Home':
      return { type: 'selectRoot' };
  }
  // A printable character starts editing and replaces the text, as in a spreadsheet cell.
  if ([...e.key].length === 1) return { type: 'edit', initialText: e.key };
  return null;
}

export function detectPlatform(userAgentPlatform: string): Platform {
  return /mac|iphone|ipad/i.test(userAgentPlatform) ? 'mac' : 'other';
}
