import { indexTopics } from '../document/topicIndex.ts';
import type { MapLayout } from '../layout/types.ts';
import type { EditorStore } from '../store/editorStore.ts';
import type { EditorCommand } from './commands.ts';
import { neighbour } from './navigation.ts';

/** A text edit in progress: which topic, what the field starts with, and whether the topic was just created. */
export interface EditSession {
  readonly topicId: string;
  readonly initialText: string;
  /** Typing a character to start editing replaces the text; F2 and double-click keep it. */
  readonly replace: boolean;
  /** Created by this gesture: naming it folds into the creation's undo step; cancelling it removes the topic. */
  readonly isNew: boolean;
}

export type ViewAction = 'zoomIn' | 'zoomOut' | 'zoomToFit';

export interface CommandOutcome {
  readonly selectedId: string;
  readonly edit?: EditSession;
  readonly view?: ViewAction;
  /** The selection moved or its topic appeared: bring it into view. */
  readonly reveal: boolean;
}

/**
 * Runs an editor command against the store and says where the selection goes next. Kept apart from React so the
 * keyboard behaviour can be tested against the in-memory store, and reused when the store is the Loro model.
 */
export function executeCommand(
  store: EditorStore,
  layout: MapLayout,
  selectedId: string,
  command: EditorCommand,
): CommandOutcome {
  const doc = store.getDocument();
  const index = indexTopics(doc);
  const selected = index.get(selectedId) ?? index.get(doc.root.id)!;
  const stay: CommandOutcome = { selectedId: selected.topic.id, reveal: false };
  const created = (id: string): CommandOutcome => ({
    selectedId: id,
    edit: { topicId: id, initialText: '', replace: true, isNew: true },
    reveal: true,
  });

  switch (command.type) {
    case 'addSibling': {
      if (selected.parentId === null) return created(store.addChild(selected.topic.id));
      return created(store.addSibling(selected.topic.id, { before: command.before }));
    }
    case 'addChild':
      return created(store.addChild(selected.topic.id));
    case 'edit':
      return {
        ...stay,
        edit: {
          topicId: selected.topic.id,
          initialText: command.initialText ?? selected.topic.text,
          replace: command.initialText !== undefined,
          isNew: false,
        },
        reveal: true,
      };
    case 'remove': {
      if (selected.topic.id === doc.root.id) return stay;
      const siblings =
        selected.parentId === null ? doc.floating : index.get(selected.parentId)!.topic.children;
      const next =
        siblings[selected.index + 1]?.id ??
        siblings[selected.index - 1]?.id ??
        selected.parentId ??
        doc.root.id;
      store.remove([selected.topic.id]);
      return { selectedId: next, reveal: true };
    }
    case 'navigate': {
      const target = neighbour(layout, selected.topic.id, command.direction);
      return target ? { selectedId: target.id, reveal: true } : stay;
    }
    case 'toggleCollapse':
      if (selected.topic.children.length > 0) {
        store.setCollapsed(selected.topic.id, !(selected.topic.collapsed ?? false));
      }
      return stay;
    case 'selectRoot':
      return { selectedId: doc.root.id, reveal: true };
    case 'undo':
    case 'redo': {
      if (command.type === 'undo') store.undo();
      else store.redo();
      const after = indexTopics(store.getDocument());
      return after.has(selected.topic.id) ? stay : { selectedId: store.getDocument().root.id, reveal: true };
    }
    case 'paste': {
      const ids = store.insertBranches(selected.topic.id, command.branches);
      return ids[0] ? { selectedId: ids[0], reveal: true } : stay;
    }
    case 'zoomIn':
    case 'zoomOut':
    case 'zoomToFit':
      return { ...stay, view: command.type };
  }
}

/** Ends a text edit: commits the text, or (cancelled or left empty on a new topic) takes the new topic back. */
export function finishEdit(store: EditorStore, edit: EditSession, text: string | null): void {
  const exists = indexTopics(store.getDocument()).has(edit.topicId);
  if (!exists) return;
  if (edit.isNew && (text === null || text.trim() === '')) {
    store.undo();
    return;
  }
  if (text === null) return;
  store.setText(edit.topicId, text, { amend: edit.isNew });
}
