import { describe, expect, it } from 'vitest';
import { NodeLiveness } from './liveness.ts';

describe('NodeLiveness', () => {
  it('takes a node silent for longer than the timeout for dead, once', () => {
    const l = new NodeLiveness('me', 30);
    l.hear('me', 0, true);
    l.hear('other', 0, true);
    expect(l.dead(20)).toEqual([]);
    l.hear('me', 25, true);
    l.hear('other', 25); // any message counts once it said it is alive
    expect(l.dead(50)).toEqual([]);
    l.hear('me', 50, true);
    expect(l.dead(56)).toEqual(['other']);
    expect(l.dead(80)).toEqual([]);
    // It comes back: judged again from then on.
    l.hear('other', 90, true);
    l.hear('me', 100, true);
    expect(l.dead(121)).toEqual(['other']);
  });

  it('judges nobody while it does not hear itself (its own bus is down)', () => {
    const l = new NodeLiveness('me', 30);
    l.hear('other', 0, true);
    expect(l.dead(100)).toEqual([]);
    l.hear('me', 0, true);
    expect(l.dead(100)).toEqual([]); // not heard itself for 100
    l.hear('me', 100, true);
    expect(l.dead(100)).toEqual(['other']);
  });

  it('never judges a node that has not said it is alive (an older version)', () => {
    const l = new NodeLiveness('me', 30);
    l.hear('me', 0, true);
    l.hear('old', 0);
    l.hear('me', 100, true);
    expect(l.dead(100)).toEqual([]);
  });
});
