import { describe, expect, it } from 'vitest';
import { MindMap } from './mind-map.ts';
import { replicasOf, syncAll } from './test-replicas.ts';

function pair(): { a: MindMap; b: MindMap; root: string } {
  const [a, b] = replicasOf(MindMap.create('m'), 2) as [MindMap, MindMap];
  return { a, b, root: a.centralTopicId() };
}

describe('undo and redo', () => {
  it("undoes and redoes this replica's operations one at a time", () => {
    const { a, root } = pair();
    expect(a.canUndo()).toBe(false);
    const t = a.addTopic(root, undefined, { text: 'one' });
    a.setText(t, 'two');
    a.undo();
    expect(a.toJSON().root.children[0]!.text).toBe('one');
    a.undo();
    expect(a.toJSON().root.children).toEqual([]);
    a.redo();
    a.redo();
    expect(a.toJSON().root.children.map((c) => [c.id, c.text])).toEqual([[t, 'two']]);
  });

  it("never undoes another peer's work", () => {
    const { a, b, root } = pair();
    const shared = a.addTopic(root, undefined, { text: 'shared' });
    syncAll([a, b]);
    a.setNotes(shared, 'note by a');
    b.setText(shared, 'text by b');
    const mine = b.addTopic(root, undefined, { text: 'topic by b' });
    syncAll([a, b]);
    a.undo();
    a.undo();
    syncAll([a, b]);
    const view = a.toJSON();
    expect(view).toEqual(b.toJSON());
    expect(view.root.children.map((c) => c.id)).toEqual([mine]);
    expect(b.canUndo()).toBe(true);
  });

  it('undoes its own text edit but keeps a concurrent edit of the same text', () => {
    const { a, b, root } = pair();
    const t = a.addTopic(root, undefined, { text: 'hello' });
    syncAll([a, b]);
    a.editText(t, 5, 0, ' world');
    b.editText(t, 0, 0, '>> ');
    syncAll([a, b]);
    expect(a.toJSON().root.children[0]!.text).toBe('>> hello world');
    a.undo();
    syncAll([a, b]);
    expect(b.toJSON().root.children[0]!.text).toBe('>> hello');
  });

  it('brings back a deleted subtree with the same ids', () => {
    const { a, b, root } = pair();
    const parent = a.addTopic(root, undefined, { text: 'p' });
    const child = a.addTopic(parent, undefined, { text: 'c', notesHtml: 'n' });
    const before = a.toJSON();
    a.deleteTopic(parent);
    syncAll([a, b]);
    expect(b.hasTopic(child)).toBe(false);
    a.undo();
    syncAll([a, b]);
    expect(b.toJSON()).toEqual(before);
    a.setText(child, 'after undo');
    expect(a.toJSON().root.children[0]!.children[0]!.text).toBe('after undo');
    a.undo();
    a.redo();
    expect(a.toJSON().root.children[0]!.children[0]!.text).toBe('after undo');
  });

  it('treats a batch as one step and reports undo/redo to subscribers', () => {
    const { a, root } = pair();
    const sources: string[] = [];
    a.subscribe((change) => sources.push(change.source));
    a.batch(() => {
      const t = a.addTopic(root, undefined, { text: 'x' });
      a.addTopic(t, undefined, { text: 'y' });
    });
    a.undo();
    expect(a.toJSON().root.children).toEqual([]);
    a.redo();
    expect(sources).toEqual(['local', 'undo', 'redo']);
  });
});
