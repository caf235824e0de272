import type { RefObject } from 'react';
import { useEffect, useRef } from 'react';
import type { Topic } from '@canopy/model';
import { indexTopics } from '../document/topicIndex.ts';
import type { EditorStore } from '../store/editorStore.ts';
import type { EditorCommand } from './commands.ts';
import { branchesToOutline, outlineToTopics } from './outline.ts';

/**
 * Copy, cut and paste of branches through the browser's clipboard events (Ctrl/Cmd+C/X/V, the Edit menu) while
 * the map has focus. Branches travel as a plain-text outline; pasting our own copy back keeps everything the text
 * cannot hold (icons, tasks, notes...).
 */
export function useBranchClipboard(
  store: EditorStore,
  treeRef: RefObject<HTMLElement | null>,
  selected: () => string,
  run: (command: EditorCommand) => void,
): void {
  const lastCopy = useRef<{ text: string; branches: readonly Topic[] } | null>(null);
  // The callbacks change every render; the listeners read the latest ones instead of being re-attached.
  const latest = useRef({ selected, run });
  latest.current = { selected, run };
  useEffect(() => {
    const mapHasFocus = () => document.activeElement === treeRef.current && treeRef.current !== null;
    const copy = (e: ClipboardEvent, cut: boolean) => {
      if (!mapHasFocus() || !e.clipboardData) return;
      const topic = indexTopics(store.getDocument()).get(latest.current.selected())?.topic;
      if (!topic) return;
      e.preventDefault();
      const text = branchesToOutline([topic]);
      e.clipboardData.setData('text/plain', text);
      lastCopy.current = { text, branches: [topic] };
      if (cut) latest.current.run({ type: 'remove' });
    };
    const onCopy = (e: ClipboardEvent) => copy(e, false);
    const onCut = (e: ClipboardEvent) => copy(e, true);
    const onPaste = (e: ClipboardEvent) => {
      if (!mapHasFocus() || !e.clipboardData) return;
      const text = e.clipboardData.getData('text/plain');
      const branches = lastCopy.current?.text === text ? lastCopy.current.branches : outlineToTopics(text);
      if (branches.length === 0) return;
      e.preventDefault();
      latest.current.run({ type: 'paste', branches });
    };
    document.addEventListener('copy', onCopy);
    document.addEventListener('cut', onCut);
    document.addEventListener('paste', onPaste);
    return () => {
      document.removeEventListener('copy', onCopy);
      document.removeEventListener('cut', onCut);
      document.removeEventListener('paste', onPaste);
    };
  }, [store, treeRef]);
}
