import type { MapDocument, Topic, TopicFields } from '@canopy/model';

/**
 * What the editor needs from a map, and nothing more. The in-memory store implements it over the JSON document
 * today; the Loro-backed model (packages/model) will implement it for co-editing, so the renderer and the keyboard
 * commands never see which engine is underneath.
 *
 * Contract: `getDocument()` returns an immutable snapshot and returns the same object until the next change
 * (so it can be used with React's useSyncExternalStore); a change yields a new object, with unchanged subtrees
 * shared. Every operation is one undo step unless `amend` is set, which folds it into the previous step
 * (used when a topic is created and then named in one gesture).
 */
export interface EditorStore {
  getDocument(): MapDocument;
  subscribe(listener: () => void): () => void;

  /** Adds a child at `index` (default: last); returns the new topic's id. */
  addChild(parentId: string, options?: TopicInsertOptions): string;
  /** Adds a sibling right after `topicId` (before it with `before: true`); returns the new id. */
  addSibling(topicId: string, options?: TopicInsertOptions & { before?: boolean }): string;
  setText(topicId: string, text: string, options?: ChangeOptions): void;
  setCollapsed(topicId: string, collapsed: boolean, options?: ChangeOptions): void;
  /** Removes topics and their subtrees; the central topic cannot be removed. Relationships touching them go too. */
  remove(topicIds: readonly string[], options?: ChangeOptions): void;
  /** Inserts copies of whole branches (pasted) under `parentId` at `index`, with fresh ids; returns their ids. */
  insertBranches(parentId: string, branches: readonly Topic[], options?: TopicInsertOptions): string[];
  /** Moves a topic under `parentId` at `index`; refused (returns false) if it would create a cycle. */
  move(topicId: string, parentId: string, index: number, options?: ChangeOptions): boolean;
  /**
   * Sets the side panel's fields of one topic (notes, links, icons, task, tags). A key present with `undefined`
   * clears that field; absent keys are left as they are. Notes must already be sanitised by the caller.
   */
  setTopicDetails(topicId: string, details: TopicDetails, options?: ChangeOptions): void;

  canUndo(): boolean;
  canRedo(): boolean;
  undo(): void;
  redo(): void;
}

/** The fields the side panel edits. */
export type TopicDetails = Pick<TopicFields, 'notesHtml' | 'image' | 'links' | 'icons' | 'task' | 'tags'>;

export interface ChangeOptions {
  /** Fold this change into the previous undo step. */
  amend?: boolean;
}

export interface TopicInsertOptions extends ChangeOptions {
  text?: string;
  index?: number;
}
