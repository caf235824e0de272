import type { EditorCommand } from '../keyboard/commands.ts';
import type { EditorStore } from '../store/editorStore.ts';

const VIEWING: ReadonlySet<EditorCommand['type']> = new Set([
  'navigate',
  'selectRoot',
  'zoomIn',
  'zoomOut',
  'zoomToFit',
]);

/** Commands that change the map (everything but moving the selection and the view). */
export function isWriteCommand(command: EditorCommand): boolean {
  return !VIEWING.has(command.type);
}

/**
 * The store as pointer gestures see it in a read-only editor: a drag drops nowhere and a badge click does not
 * expand (collapse state is part of the shared map). Additions throw: nothing offers them there.
 */
export function withoutWrites(store: EditorStore): EditorStore {
  const refuse = (): never => {
    throw new Error('this map is read-only');
  };
  return {
    getDocument: () => store.getDocument(),
    subscribe: (listener) => store.subscribe(listener),
    addChild: refuse,
    addSibling: refuse,
    insertBranches: refuse,
    setText: () => undefined,
    setCollapsed: () => undefined,
    remove: () => undefined,
    move: () => false,
    setTopicDetails: () => undefined,
    canUndo: () => false,
    canRedo: () => false,
    undo: () => undefined,
    redo: () => undefined,
  };
}
