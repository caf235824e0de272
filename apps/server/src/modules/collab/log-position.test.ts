import { describe, expect, it } from 'vitest';
import { LogPosition } from './log-position.ts';

describe('LogPosition (R20, R21)', () => {
  it('moves over the room’s own commits while they follow each other', () => {
    const position = new LogPosition(4);
    expect(position.committed([5, 6])).toBe(true);
    expect(position.seq).toBe(6);
    expect(position.contiguous).toBe(true);
  });

  it('holds own entries beyond a gap until a catch-up reads what lies in between', () => {
    const position = new LogPosition(4);
    // Another node appended 5 and 6; this room's commit got 7 and 8.
    expect(position.committed([7, 8])).toBe(false);
    expect(position.seq).toBe(4);
    expect(position.contiguous).toBe(false);
    const absorbed: number[] = [];
    for (const seq of [3, 5, 6, 7, 8]) {
      if (!position.lacks(seq)) continue;
      absorbed.push(seq);
      position.advance(seq);
    }
    position.caughtUp(8, false);
    expect(absorbed).toEqual([5, 6]);
    expect(position.seq).toBe(8);
    expect(position.contiguous).toBe(true);
  });

  it('jumps to the head when a catch-up started from a snapshot, dropping own entries it covers', () => {
    const position = new LogPosition(2);
    position.committed([9]);
    position.caughtUp(10, true);
    expect(position.seq).toBe(10);
    expect(position.contiguous).toBe(true);
    position.reset(3);
    expect(position.seq).toBe(3);
    expect(position.committed([4])).toBe(true);
  });
});
