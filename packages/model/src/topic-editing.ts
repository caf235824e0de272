/**
 * The topic operations of `MindMap`: structure (add, move, reorder, delete) and the field setters.
 * `MindMap` (mind-map.ts) adds factories, boundaries, summaries, relationships and map-level fields.
 */
import type { LoroTreeNode } from 'loro-crdt';
import type { Task, TextRun, TopicStyle } from './document.ts';
import { ModelError } from './errors.ts';
import { assertFields } from './field-schemas.ts';
import { MAX_TEXT_LENGTH, MAX_TOPIC_DEPTH, MAX_TOPICS } from './limits.ts';
import {
  createTopicNode,
  depthOf,
  listOf,
  mapOf,
  textOf,
  writeFields,
  type TopicFields,
} from './loro-layout.ts';
import { MapCore } from './map-core.ts';

export class TopicEditing extends MapCore {
  // ---- topics --------------------------------------------------------------------------------------------

  centralTopicId(): string {
    return this.toJSON().root.id;
  }

  /** Adds a topic under `parentId` (null: a floating topic) at `index` among its siblings (default: last). */
  addTopic(parentId: string | null, index?: number, fields: TopicFields = {}): string {
    assertFields(fields);
    const parent = parentId === null ? undefined : this.node(parentId);
    if (this.topicCount() >= MAX_TOPICS)
      throw new ModelError('limit-exceeded', `a map holds at most ${MAX_TOPICS} topics`);
    if (parent && depthOf(parent) + 1 > MAX_TOPIC_DEPTH)
      throw new ModelError('limit-exceeded', `topics nest at most ${MAX_TOPIC_DEPTH} deep`);
    const id = this.createId();
    const node = createTopicNode(this.tree, parent?.id, this.loroIndex(parent, index), id, fields);
    this.indexTopic(id, node);
    this.changed();
    return id;
  }

  /**
   * Moves a topic (and its subtree) under `newParentId` (null: makes it floating) at `index` among the new
   * siblings. Concurrent moves that would form a cycle are resolved by the tree CRDT: one of them is ignored.
   * A summary's topic that is moved becomes an ordinary topic.
   */
  moveTopic(id: string, newParentId: string | null, index?: number): void {
    this.moveNode(this.node(id), newParentId === null ? undefined : this.node(newParentId), index);
  }

  /** Moves a topic to `index` among its current siblings. */
  reorder(id: string, index: number): void {
    const node = this.node(id);
    this.moveNode(node, node.parent(), index);
  }

  /** Deletes a topic and its subtree. Concurrent edits inside the subtree are kept in history but not shown. */
  deleteTopic(id: string): void {
    const node = this.node(id);
    if (node.id === this.centralNode())
      throw new ModelError('invalid-operation', 'the central topic cannot be deleted');
    this.tree.delete(node.id);
    this.forgetIndex();
    this.changed();
  }

  // ---- topic fields --------------------------------------------------------------------------------------

  /** Sets the given fields (a key present with `undefined` clears it); other fields are left as they are. */
  setFields(id: string, fields: TopicFields): void {
    assertFields(fields);
    writeFields(this.dataOf(id), fields);
    this.changed();
  }

  setText(id: string, text: string): void {
    this.setFields(id, { text });
  }

  /** Splices the topic text, as an editor does keystroke by keystroke (UTF-16 indices). */
  editText(id: string, index: number, deleteCount: number, insert: string): void {
    const text = textOf(this.dataOf(id), 'text');
    if (
      !Number.isInteger(index) ||
      !Number.isInteger(deleteCount) ||
      index < 0 ||
      deleteCount < 0 ||
      index + deleteCount > text.length
    ) {
      throw new ModelError(
        'invalid-operation',
        `cannot splice ${index}+${deleteCount} in a text of ${text.length}`,
      );
    }
    if (text.length - deleteCount + insert.length > MAX_TEXT_LENGTH)
      throw new ModelError('limit-exceeded', `topic text is at most ${MAX_TEXT_LENGTH} long`);
    text.splice(index, deleteCount, insert);
    this.changed();
  }

  /** Sets rich runs (their text becomes the topic text); `undefined` turns the topic back to plain text. */
  setRichText(id: string, runs: TextRun[] | undefined): void {
    this.setFields(id, { richText: runs });
  }

  setNotes(id: string, notesHtml: string | undefined): void {
    this.setFields(id, { notesHtml });
  }

  setLinks(id: string, links: TopicFields['links']): void {
    this.setFields(id, { links });
  }

  setIcons(id: string, icons: string[] | undefined): void {
    this.setFields(id, { icons });
  }

  addIcon(id: string, icon: string): void {
    this.addToSet(id, 'icons', icon);
  }

  removeIcon(id: string, icon: string): void {
    this.removeFromSet(id, 'icons', icon);
  }

  setTags(id: string, tags: string[] | undefined): void {
    this.setFields(id, { tags });
  }

  addTag(id: string, tag: string): void {
    this.addToSet(id, 'tags', tag);
  }

  removeTag(id: string, tag: string): void {
    this.removeFromSet(id, 'tags', tag);
  }

  setTask(id: string, task: Task | undefined): void {
    this.setFields(id, { task });
  }

  /** Changes only the task fields in `patch` (`undefined` removes one), so concurrent edits of others merge. */
  updateTask(id: string, patch: Partial<Task>): void {
    this.patchMap(id, 'task', patch);
  }

  setImage(id: string, image: TopicFields['image']): void {
    this.setFields(id, { image });
  }

  setAttachments(id: string, attachments: TopicFields['attachments']): void {
    this.setFields(id, { attachments });
  }

  setStyle(id: string, style: TopicStyle | undefined): void {
    this.setFields(id, { style });
  }

  updateStyle(id: string, patch: Partial<TopicStyle>): void {
    this.patchMap(id, 'style', patch);
  }

  setCollapsed(id: string, collapsed: boolean): void {
    this.setFields(id, { collapsed });
  }

  setPosition(id: string, position: { x: number; y: number } | undefined): void {
    this.setFields(id, { position });
  }

  // ---- helpers -------------------------------------------------------------------------------------------

  protected addToSet(id: string, key: 'icons' | 'tags', value: string): void {
    const list = listOf(this.dataOf(id), key);
    if ((list.toJSON() as unknown[]).includes(value)) return;
    assertFields({ [key]: [...(list.toJSON() as string[]), value] });
    list.push(value);
    this.changed();
  }

  protected removeFromSet(id: string, key: 'icons' | 'tags', value: string): void {
    const list = listOf(this.dataOf(id), key);
    const items = list.toJSON() as unknown[];
    for (let i = items.length - 1; i >= 0; i--) if (items[i] === value) list.delete(i, 1);
    this.changed();
  }

  protected patchMap(id: string, key: 'task' | 'style', patch: object): void {
    const map = mapOf(this.dataOf(id), key);
    const next: Record<string, unknown> = { ...(map.toJSON() as Record<string, unknown>) };
    for (const [field, value] of Object.entries(patch)) {
      if (value === undefined) delete next[field];
      else next[field] = value;
    }
    assertFields({ [key]: next });
    for (const [field, value] of Object.entries(patch)) {
      if (value === undefined) map.delete(field);
      else map.set(field, JSON.parse(JSON.stringify(value)) as never);
    }
    this.changed();
  }

  protected moveNode(node: LoroTreeNode, parent: LoroTreeNode | undefined, index: number | undefined): void {
    if (node.id === this.centralNode()) {
      throw new ModelError('invalid-operation', 'the central topic cannot be moved');
    }
    for (let at = parent; at; at = at.parent()) {
      if (at.id === node.id)
        throw new ModelError('invalid-operation', 'a topic cannot move into its own subtree');
    }
    if ((parent ? depthOf(parent) : 0) + heightOf(node) > MAX_TOPIC_DEPTH) {
      throw new ModelError('limit-exceeded', `topics nest at most ${MAX_TOPIC_DEPTH} deep`);
    }
    if (node.data.get('summary') !== undefined) node.data.delete('summary');
    this.tree.move(node.id, parent?.id, this.loroIndex(parent, index, node.id));
    this.changed();
  }
}

function heightOf(node: LoroTreeNode): number {
  let height = 0;
  const stack: { node: LoroTreeNode; level: number }[] = [{ node, level: 1 }];
  while (stack.length > 0) {
    const { node: at, level } = stack.pop()!;
    height = Math.max(height, level);
    for (const child of at.children() ?? []) stack.push({ node: child, level: level + 1 });
  }
  return height;
}
