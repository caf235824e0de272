import { afterEach, describe, expect, it, vi } from 'vitest';
import { indexTopics } from '../document/topicIndex.ts';
import { layoutDocument } from '../layout/layoutDocument.ts';
import { docFrom, fixedMeasure } from '../testing/fixtures.ts';
import { collaboratorFrom, colorFor, distinctColors, throttleLatest } from './presence.ts';
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

  it('gives everyone in the room a different colour, the same on every screen', () => {
    const person = (session: number, accountId: string) => ({
      session,
      accountId,
      name: accountId,
      color: colorFor(accountId),
      selection: null,
    });
    // Many accounts: with eight colours some of them start from the same one.
    const ids = Array.from({ length: 8 }, (_, i) => `account-${i}`);
    const room = ids.map((id, i) => person(i + 1, id));
    const seenBy = (me: number) =>
      distinctColors(
        room.filter((p) => p.session !== me),
        { session: me, accountId: room[me - 1]!.accountId },
      );
    const colours = new Map<number, string>();
    for (let me = 1; me <= room.length; me++) {
      for (const c of seenBy(me)) {
        if (colours.has(c.session)) expect(colours.get(c.session)).toBe(c.color);
        else colours.set(c.session, c.color);
      }
    }
    expect(new Set(colours.values()).size).toBe(8);
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
