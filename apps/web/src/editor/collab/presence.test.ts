import { afterEach, describe, expect, it, vi } from 'vitest';
import { indexTopics } from '../document/topicIndex.ts';
import { layoutDocument } from '../layout/layoutDocument.ts';
import { docFrom, fixedMeasure } from '../testing/fixtures.ts';
import { collaboratorFrom, colorFor, throttleLatest } from './presence.ts';
import { presenceMarks } from './presenceOverlay.ts';

describe('presence', () => {
  afterEach(() => vi.useRealTimers());

  it("reads a peer's state defensively; the colour comes from the server-stamped account", () => {
    const peer = { session: 3, accountId: 'acc-1', state: { v: 1, name: '  Ada  ', selection: 'A' } };
    expect(collaboratorFrom(peer)).toEqual({
      session: 3,
      accountId: 'acc-1',
      name: 'Ada',
      color: colorFor('acc-1'),
      selection: 'A',
    });
    expect(collaboratorFrom({ ...peer, state: { name: 42, selection: { x: 1 } } })).toMatchObject({
      name: 'Someone',
      selection: null,
    });
    expect(collaboratorFrom({ ...peer, state: 'garbage' })).toBeUndefined();
    expect(colorFor('acc-1')).toBe(colorFor('acc-1'));
  });

  it('throttles selection updates and always sends the latest one', () => {
    vi.useFakeTimers();
    const sent: string[] = [];
    const send = throttleLatest<string>(100, (value) => sent.push(value));
    send('a');
    send('b');
    send('c');
    expect(sent).toEqual(['a']);
    vi.advanceTimersByTime(100);
    expect(sent).toEqual(['a', 'c']);
    vi.advanceTimersByTime(500);
    send('d');
    expect(sent).toEqual(['a', 'c', 'd']);
  });

  it('marks a selection hidden in a collapsed branch on its nearest shown ancestor', () => {
    const doc = docFrom(['Root', ['A', ['A1']], ['B']]);
    doc.root.children[0]!.collapsed = true;
    const layout = layoutDocument(doc, 'map', fixedMeasure);
    const index = indexTopics(doc);
    const who = (selection: string | null) => ({
      session: 1,
      accountId: 'x',
      name: 'X',
      color: '#000',
      selection,
    });
    expect(presenceMarks([who('A1'), who('B'), who('unknown'), who(null)], layout, index)).toEqual([
      { collaborator: who('A1'), topicId: 'A' },
      { collaborator: who('B'), topicId: 'B' },
    ]);
  });
});
