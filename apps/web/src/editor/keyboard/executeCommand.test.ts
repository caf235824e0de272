import { describe, expect, it } from 'vitest';
import { layoutDocument } from '../layout/layoutDocument.ts';
import type { LayoutKind } from '../layout/types.ts';
import { MemoryEditorStore } from '../store/memoryEditorStore.ts';
import { docFrom, fixedMeasure } from '../testing/fixtures.ts';
import type { EditorCommand } from './commands.ts';
import { executeCommand, finishEdit } from './executeCommand.ts';

function editor(kind: LayoutKind = 'map') {
  let n = 0;
  const store = new MemoryEditorStore(
    docFrom(['Root', ['A', ['A1'], ['A2'], ['A3']], ['B'], ['C', ['C1']], ['D']]),
    { newId: () => `new${++n}` },
  );
  let selected = 'Root';
  const run = (command: EditorCommand) => {
    const outcome = executeCommand(
      store,
      layoutDocument(store.getDocument(), kind, fixedMeasure),
      selected,
      command,
    );
    selected = outcome.selectedId;
    return outcome;
  };
  const select = (id: string) => (selected = id);
  return { store, run, select, selected: () => selected };
}

describe('executeCommand', () => {
  it('Enter adds a sibling after the selection and starts naming it; naming is part of the same undo step', () => {
    const e = editor();
    e.select('A1');
    const outcome = e.run({ type: 'addSibling', before: false });
    expect(outcome.selectedId).toBe('new1');
    expect(outcome.edit).toMatchObject({ topicId: 'new1', isNew: true });
    expect(e.store.getDocument().root.children[0]!.children.map((c) => c.id)).toEqual([
      'A1',
      'new1',
      'A2',
      'A3',
    ]);
    finishEdit(e.store, outcome.edit!, 'Named');
    expect(e.store.getDocument().root.children[0]!.children[1]!.text).toBe('Named');
    e.store.undo();
    expect(e.store.getDocument().root.children[0]!.children).toHaveLength(3);
  });

  it('Enter on the central topic adds a main topic', () => {
    const e = editor();
    e.run({ type: 'addSibling', before: false });
    expect(e.store.getDocument().root.children.at(-1)!.id).toBe('new1');
  });

  it('cancelling the name of a new topic takes the topic back', () => {
    const e = editor();
    const outcome = e.run({ type: 'addChild' });
    finishEdit(e.store, outcome.edit!, null);
    expect(e.store.getDocument().root.children).toHaveLength(4);
  });

  it('typing starts an edit that replaces the text; F2 keeps it', () => {
    const e = editor();
    e.select('B');
    expect(e.run({ type: 'edit', initialText: 'q' }).edit).toMatchObject({ initialText: 'q', replace: true });
    expect(e.run({ type: 'edit' }).edit).toMatchObject({ initialText: 'B', replace: false, isNew: false });
  });

  it('Delete removes the branch and selects the next sibling, else the previous, else the parent', () => {
    const e = editor();
    e.select('A2');
    expect(e.run({ type: 'remove' }).selectedId).toBe('A3');
    expect(e.run({ type: 'remove' }).selectedId).toBe('A1');
    expect(e.run({ type: 'remove' }).selectedId).toBe('A');
    e.select('Root');
    expect(e.run({ type: 'remove' }).selectedId).toBe('Root');
  });

  it('Space collapses and expands', () => {
    const e = editor();
    e.select('A');
    e.run({ type: 'toggleCollapse' });
    expect(e.store.getDocument().root.children[0]!.collapsed).toBe(true);
    e.run({ type: 'toggleCollapse' });
    expect(e.store.getDocument().root.children[0]!.collapsed).toBe(false);
  });

  it('arrows follow the branches outwards and inwards, and move between siblings', () => {
    const e = editor('map');
    expect(e.run({ type: 'navigate', direction: 'right' }).selectedId).toMatch(/^[AB]$/);
    e.select('A');
    expect(e.run({ type: 'navigate', direction: 'right' }).selectedId).toBe('A2');
    expect(e.run({ type: 'navigate', direction: 'up' }).selectedId).toBe('A1');
    expect(e.run({ type: 'navigate', direction: 'left' }).selectedId).toBe('A');
    expect(e.run({ type: 'navigate', direction: 'left' }).selectedId).toBe('Root');
    // C is on the left side (clockwise: D above C), and its child grows further left.
    e.select('C');
    expect(e.run({ type: 'navigate', direction: 'left' }).selectedId).toBe('C1');
    expect(e.run({ type: 'navigate', direction: 'right' }).selectedId).toBe('C');
  });

  it('in the org chart, down goes to the children and left/right between siblings', () => {
    const e = editor('org');
    expect(e.run({ type: 'navigate', direction: 'down' }).selectedId).toMatch(/^[BC]$/);
    e.select('A');
    expect(e.run({ type: 'navigate', direction: 'down' }).selectedId).toBe('A2');
    expect(e.run({ type: 'navigate', direction: 'right' }).selectedId).toBe('A3');
    e.select('A');
    expect(e.run({ type: 'navigate', direction: 'right' }).selectedId).toBe('B');
    expect(e.run({ type: 'navigate', direction: 'up' }).selectedId).toBe('Root');
  });

  it('undo after adding a topic selects something that still exists', () => {
    const e = editor();
    e.select('B');
    const outcome = e.run({ type: 'addChild' });
    finishEdit(e.store, outcome.edit!, 'x');
    expect(e.run({ type: 'undo' }).selectedId).toBe('Root');
    e.run({ type: 'redo' });
    expect(e.store.getDocument().root.children[1]!.children[0]!.text).toBe('x');
  });

  it('pastes branches under the selection and selects the first', () => {
    const e = editor();
    e.select('B');
    const outcome = e.run({ type: 'paste', branches: [{ id: 'x', text: 'Pasted', children: [] }] });
    const b = e.store.getDocument().root.children[1]!;
    expect(b.children.map((c) => c.text)).toEqual(['Pasted']);
    expect(outcome).toMatchObject({ selectedId: b.children[0]!.id, reveal: true });
  });
});
