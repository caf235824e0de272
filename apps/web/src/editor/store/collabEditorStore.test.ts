import { MindMap, type Topic } from '@canopy/model';
import { describe, expect, it, vi } from 'vitest';
import { generateMap } from '../demo/generateMap.ts';
import { docFrom } from '../testing/fixtures.ts';
import { CollabEditorStore } from './collabEditorStore.ts';

/**
 * Two people's stores over two replicas of one map, wired as the room would wire them: each local update is
 * delivered to the other replica (at once, or held back to simulate latency and offline periods).
 */
function pair(options: { manual?: boolean } = {}) {
  const origin = MindMap.fromJSON(
    docFrom(['Root', ['A', ['A1'], ['A2']], ['B']], {
      relationships: [{ id: 'r1', fromId: 'A1', toId: 'B' }],
    }),
  );
  const snapshot = origin.exportSnapshot();
  const replica = (peer: bigint) => {
    const loaded = MindMap.fromSnapshot(snapshot, { peerId: peer, maxUndoSteps: 500 });
    if (!loaded.ok) throw loaded.error;
    return loaded.value;
  };
  const mapA = replica(1n);
  const mapB = replica(2n);
  const pending: { to: MindMap; update: Uint8Array }[] = [];
  const deliver = (to: MindMap) => (update: Uint8Array) => {
    if (options.manual) pending.push({ to, update });
    else expect(to.importUpdates(update).ok).toBe(true);
  };
  mapA.onLocalUpdate(deliver(mapB));
  mapB.onLocalUpdate(deliver(mapA));
  const flush = () => {
    for (const { to, update } of pending.splice(0)) expect(to.importUpdates(update).ok).toBe(true);
  };
  return { a: new CollabEditorStore(mapA), b: new CollabEditorStore(mapB), flush };
}

const childTexts = (store: CollabEditorStore, id: string): string[] => {
  const find = (t: Topic): Topic | undefined =>
    t.id === id ? t : t.children.map(find).find((found) => found !== undefined);
  return find(store.getDocument().root)?.children.map((c) => c.text) ?? [];
};

describe('CollabEditorStore', () => {
  it("shows the other person's edits at once, and notifies its subscribers", () => {
    const { a, b } = pair();
    const listener = vi.fn();
    b.subscribe(listener);
    const id = a.addChild('A', { text: 'A3' });
    a.addSibling('A1', { text: 'after A1' });
    a.setText('B', 'Bee');
    expect(childTexts(b, 'A')).toEqual(['A1', 'after A1', 'A2', 'A3']);
    expect(childTexts(b, 'Root')).toEqual(['A', 'Bee']);
    expect(b.getDocument()).toEqual(a.getDocument());
    expect(listener).toHaveBeenCalledTimes(3);
    b.setText(id, 'A3 by b');
    expect(childTexts(a, 'A')).toContain('A3 by b');
  });

  it('returns the same snapshot until a change, and shares unchanged topics after a remote one', () => {
    const { a, b } = pair();
    const before = b.getDocument();
    expect(b.getDocument()).toBe(before);
    a.setText('A1', 'renamed');
    const after = b.getDocument();
    expect(after).not.toBe(before);
    expect(b.getDocument()).toBe(after);
    const [beforeA, beforeB] = before.root.children as [Topic, Topic];
    const [afterA, afterB] = after.root.children as [Topic, Topic];
    expect(afterB).toBe(beforeB);
    expect(afterA).not.toBe(beforeA);
    expect(afterA.children[1]).toBe(beforeA.children[1]);
    expect(afterA.children[0]!.text).toBe('renamed');
    expect(after.relationships).toBe(before.relationships);
  });

  it("undoes and redoes only this person's changes", () => {
    const { a, b } = pair();
    const mine = a.addChild('Root', { text: 'mine' });
    b.addChild('Root', { text: 'theirs' });
    b.setText('A', 'A by b');
    a.setText('B', 'B by a');
    expect(a.canUndo()).toBe(true);
    a.undo();
    a.undo();
    expect(a.canUndo()).toBe(false);
    expect(childTexts(a, 'Root')).toEqual(['A by b', 'B', 'theirs']);
    expect(childTexts(b, 'Root')).toEqual(['A by b', 'B', 'theirs']);
    a.redo();
    // Redo puts the topic back where it was, before the one added concurrently.
    expect(childTexts(b, 'Root')).toEqual(['A by b', 'B', 'mine', 'theirs']);
    expect(a.getDocument().root.children.map((t) => t.id)).toContain(mine);
    expect(b.canUndo()).toBe(true);
  });

  it('folds an amended change into the previous undo step (create, then name)', () => {
    const { a, b } = pair();
    const id = a.addChild('B');
    a.setText(id, 'named', { amend: true });
    expect(childTexts(b, 'B')).toEqual(['named']);
    a.undo();
    expect(childTexts(b, 'B')).toEqual([]);
    expect(a.canUndo()).toBe(false);
    a.redo();
    expect(childTexts(b, 'B')).toEqual(['named']);
  });

  it('records no undo step for a change that changes nothing', () => {
    const { a } = pair();
    a.setText('A', 'A');
    a.setCollapsed('B', true);
    expect(a.canUndo()).toBe(false);
  });

  it('merges concurrent edits made while apart (latency, offline) on both sides', () => {
    const { a, b, flush } = pair({ manual: true });
    a.addChild('A1', { text: 'offline child' });
    a.setText('A', 'A by a');
    b.addChild('A1', { text: 'child by b' });
    b.remove(['B']);
    expect(childTexts(a, 'Root')).toEqual(['A by a', 'B']);
    flush();
    expect(a.getDocument()).toEqual(b.getDocument());
    expect(childTexts(a, 'Root')).toEqual(['A by a']);
    expect(childTexts(a, 'A1').sort()).toEqual(['child by b', 'offline child']);
    // The relationship to the removed topic went with it.
    expect(a.getDocument().relationships).toEqual([]);
  });

  it('removes subtrees and brings them back, relationships included, with one undo', () => {
    const { a, b } = pair();
    a.remove(['A', 'A1', 'Root']);
    expect(childTexts(b, 'Root')).toEqual(['B']);
    expect(b.getDocument().relationships).toEqual([]);
    a.undo();
    expect(childTexts(b, 'A')).toEqual(['A1', 'A2']);
    expect(b.getDocument().relationships).toEqual([{ id: 'r1', fromId: 'A1', toId: 'B' }]);
  });

  it('moves topics with the editor index convention and refuses cycles', () => {
    const { a, b } = pair();
    expect(a.move('A1', 'A', 2)).toBe(true);
    expect(childTexts(b, 'A')).toEqual(['A2', 'A1']);
    expect(a.move('B', 'A', 0)).toBe(true);
    expect(childTexts(b, 'A')).toEqual(['B', 'A2', 'A1']);
    expect(a.move('A', 'A1', 0)).toBe(false);
    expect(a.move('Root', 'A', 0)).toBe(false);
  });

  it('pastes branches with fresh ids and their fields, expanding a collapsed parent', () => {
    const { a, b } = pair();
    a.setCollapsed('A', true);
    const branch: Topic = {
      id: 'A',
      text: 'copy',
      icons: ['star'],
      children: [{ id: 'A1', text: 'inner', children: [] }],
    };
    const [id] = a.insertBranches('A', [branch], { index: 1 });
    const pasted = b.getDocument().root.children[0]!;
    expect(pasted.collapsed).toBeFalsy();
    expect(pasted.children.map((c) => c.text)).toEqual(['A1', 'copy', 'A2']);
    expect(pasted.children[1]).toMatchObject({ id, icons: ['star'], children: [{ text: 'inner' }] });
    expect(id).not.toBe('A');
    a.undo();
    expect(childTexts(b, 'A')).toEqual(['A1', 'A2']);
  });

  it("sets and clears the side panel's fields", () => {
    const { a, b } = pair();
    a.setTopicDetails('A', { notesHtml: '<p>n</p>', tags: ['x'], task: { progress: 50 } });
    expect(b.getDocument().root.children[0]).toMatchObject({
      notesHtml: '<p>n</p>',
      tags: ['x'],
      task: { progress: 50 },
    });
    a.setTopicDetails('A', { tags: undefined });
    expect(b.getDocument().root.children[0]!.tags).toBeUndefined();
    expect(b.getDocument().root.children[0]!.notesHtml).toBe('<p>n</p>');
  });

  it('ignores a change to a topic someone else has just deleted', () => {
    const { a, b } = pair();
    b.remove(['A1']);
    const before = a.getDocument();
    a.setText('A1', 'typed meanwhile');
    a.setCollapsed('A1', true);
    a.setTopicDetails('A1', { tags: ['x'] });
    expect(a.move('A1', 'B', 0)).toBe(false);
    expect(a.getDocument()).toBe(before);
    expect(a.canUndo()).toBe(false);
    expect(() => a.addChild('A1')).toThrow(/unknown topic/);
  });

  it('refuses every change when read-only, yet still shows remote ones', () => {
    const { a, b } = pair();
    b.setReadOnly(true);
    expect(() => b.addChild('A')).toThrow(/read-only/);
    expect(() => b.setText('A', 'x')).toThrow(/read-only/);
    a.setText('A', 'from a');
    expect(childTexts(b, 'Root')).toEqual(['from a', 'B']);
  });
});

describe('CollabEditorStore on a generated map', () => {
  it('keeps every topic object off the changed path after a remote edit (render caches survive)', () => {
    const origin = MindMap.fromJSON(generateMap({ topics: 2_000, decorate: true }), { peerId: 1n });
    const copy = MindMap.fromSnapshot(origin.exportSnapshot(), { peerId: 2n });
    if (!copy.ok) throw copy.error;
    origin.onLocalUpdate((update) => copy.value.importUpdates(update));
    const a = new CollabEditorStore(origin);
    const b = new CollabEditorStore(copy.value);
    // The first snapshot is the model's own view: nothing to share with yet, so nothing is copied.
    expect(b.getDocument()).toBe(copy.value.toJSON());
    const before = topicObjects(b.getDocument().root);
    const deep = [...before.values()].find(
      (t) => t.children.length === 0 && t.id !== b.getDocument().root.id,
    )!;
    a.setText(deep.id, 'changed far away');
    const after = topicObjects(b.getDocument().root);
    const renewed = [...after].filter(([id, t]) => before.get(id) !== t).map(([id]) => id);
    // The edited topic and its ancestors, nothing else.
    expect(renewed).toContain(deep.id);
    expect(renewed.length).toBeLessThan(12);
    expect(after.size).toBe(before.size);
  });
});

function topicObjects(root: Topic): Map<string, Topic> {
  const all = new Map<string, Topic>();
  const stack = [root];
  for (let t = stack.pop(); t; t = stack.pop()) {
    all.set(t.id, t);
    stack.push(...t.children);
  }
  return all;
}
