import { describe, expect, it, vi } from 'vitest';
import { docFrom } from '../testing/fixtures.ts';
import { MemoryEditorStore } from './memoryEditorStore.ts';

function storeFor() {
  let n = 0;
  const doc = docFrom(['Root', ['A', ['A1'], ['A2']], ['B']], {
    relationships: [{ id: 'r1', fromId: 'A1', toId: 'B' }],
  });
  return new MemoryEditorStore(doc, { newId: () => `new${++n}` });
}
const texts = (store: MemoryEditorStore, id: string) => {
  const find = (t: {
    id: string;
    children: { id: string; text: string; children: unknown[] }[];
  }): string[] | undefined =>
    t.id === id ? t.children.map((c) => c.id) : t.children.map((c) => find(c as never)).find(Boolean);
  return find(store.getDocument().root);
};

describe('MemoryEditorStore', () => {
  it('adds children and siblings where asked, and returns their ids', () => {
    const store = storeFor();
    expect(store.addChild('A', { text: 'A3' })).toBe('new1');
    expect(store.addSibling('A1', { text: 'after A1' })).toBe('new2');
    expect(store.addSibling('A1', { before: true })).toBe('new3');
    expect(texts(store, 'A')).toEqual(['new3', 'A1', 'new2', 'A2', 'new1']);
  });

  it('refuses siblings for the central topic', () => {
    expect(() => storeFor().addSibling('Root')).toThrow();
  });

  it('keeps unchanged subtrees shared between versions and notifies subscribers once per change', () => {
    const store = storeFor();
    const listener = vi.fn();
    store.subscribe(listener);
    const before = store.getDocument();
    store.setText('A1', 'renamed');
    const after = store.getDocument();
    expect(after).not.toBe(before);
    expect(after.root.children[1]).toBe(before.root.children[1]);
    expect(after.root.children[0]!.children[1]).toBe(before.root.children[0]!.children[1]);
    expect(after.root.children[0]!.children[0]!.text).toBe('renamed');
    expect(listener).toHaveBeenCalledTimes(1);
    expect(store.getDocument()).toBe(after);
  });

  it('removes a branch with the relationships that touch it, never the central topic', () => {
    const store = storeFor();
    store.remove(['A']);
    expect(store.getDocument().root.children.map((c) => c.id)).toEqual(['B']);
    expect(store.getDocument().relationships).toEqual([]);
    const doc = store.getDocument();
    store.remove(['Root']);
    expect(store.getDocument()).toBe(doc);
  });

  it('undoes and redoes each change, and a new change clears the redo stack', () => {
    const store = storeFor();
    const v0 = store.getDocument();
    store.setText('B', 'B!');
    const v1 = store.getDocument();
    store.setCollapsed('A', true);
    store.undo();
    expect(store.getDocument()).toBe(v1);
    store.undo();
    expect(store.getDocument()).toBe(v0);
    expect(store.canUndo()).toBe(false);
    store.redo();
    expect(store.getDocument()).toBe(v1);
    store.setText('A', 'A!');
    expect(store.canRedo()).toBe(false);
  });

  it('folds an amended change into the previous undo step (create, then name)', () => {
    const store = storeFor();
    const v0 = store.getDocument();
    const id = store.addChild('B');
    store.setText(id, 'named', { amend: true });
    store.undo();
    expect(store.getDocument()).toBe(v0);
  });

  it('expands a collapsed parent when a child is added to it', () => {
    const store = storeFor();
    store.setCollapsed('A', true);
    store.addChild('A');
    expect(store.getDocument().root.children[0]!.collapsed).toBe(false);
  });

  it('moves topics, adjusting the index within the same parent, and refuses cycles', () => {
    const store = storeFor();
    expect(store.move('A1', 'A', 2)).toBe(true);
    expect(texts(store, 'A')).toEqual(['A2', 'A1']);
    expect(store.move('A', 'A1', 0)).toBe(false);
    expect(store.move('B', 'A2', 0)).toBe(true);
    expect(texts(store, 'A2')).toEqual(['B']);
  });

  it('edits floating topics', () => {
    const doc = docFrom(['Root'], { floating: [{ id: 'F', text: 'floating', children: [] }] });
    const store = new MemoryEditorStore(doc, { newId: () => 'F1' });
    store.addChild('F', { text: 'child' });
    expect(store.getDocument().floating[0]!.children.map((c) => c.text)).toEqual(['child']);
    store.remove(['F']);
    expect(store.getDocument().floating).toEqual([]);
  });

  it('pastes copies of branches with fresh ids, as one undo step', () => {
    const store = storeFor();
    const branch = store.getDocument().root.children[0]!;
    const v0 = store.getDocument();
    const ids = store.insertBranches('B', [branch]);
    const pasted = store.getDocument().root.children[1]!.children[0]!;
    expect(ids).toEqual([pasted.id]);
    expect(pasted.text).toBe('A');
    expect(pasted.children.map((c) => c.text)).toEqual(['A1', 'A2']);
    const allIds = [pasted.id, ...pasted.children.map((c) => c.id)];
    expect(allIds.some((id) => ['A', 'A1', 'A2'].includes(id))).toBe(false);
    expect(new Set(allIds).size).toBe(3);
    store.undo();
    expect(store.getDocument()).toBe(v0);
  });
});
