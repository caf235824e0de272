import { describe, expect, it } from 'vitest';
import { decodeServer } from '@canopy/sdk';
import { commitFrames, fanOut, relay } from './fan-out.ts';
import type { RoomMember } from './room.ts';

/** A member that records what it is sent, as lists (to tell a shared list from copies) and decoded. */
function member(name: string) {
  const lists: (readonly Uint8Array[])[] = [];
  const m: RoomMember & { lists: typeof lists; heard: () => string[] } = {
    session: 0,
    accountId: name,
    role: 'editor',
    send: (frame) => lists.push([frame]),
    sendAll: (frames) => lists.push(frames),
    close: () => undefined,
    lists,
    heard: () =>
      lists.flat().map((bytes) => {
        const f = decodeServer(bytes);
        if (f.type === 'update') return `update ${new TextDecoder().decode(f.update)}`;
        if (f.type === 'ack' || f.type === 'refused') return `${f.type} ${f.ref}`;
        if (f.type === 'role') return `role ${f.role}`;
        return f.type;
      }),
  };
  return m;
}

const bytes = (text: string) => new TextEncoder().encode(text);

type Member = ReturnType<typeof member>;
/** Four recording members, a to d. */
const four = () => ['a', 'b', 'c', 'd'].map(member) as [Member, Member, Member, Member];

describe('fanOut, after the commit is durable (R10, R12, R15, R16)', () => {
  it('sends each member one list in commit order: senders their acks, the others one shared list', () => {
    const [a, b, c, d] = four();
    const batch = [
      { member: a, ref: 1, data: bytes('a1') },
      { member: b, ref: 7, data: bytes('b7') },
      { member: a, ref: 2, data: bytes('a2') },
    ];
    fanOut(commitFrames(batch, [true, true, true]), [a, b, c, d]);
    expect(a.heard()).toEqual(['ack 1', 'update b7', 'ack 2']);
    expect(b.heard()).toEqual(['update a1', 'ack 7', 'update a2']);
    expect(c.heard()).toEqual(['update a1', 'update b7', 'update a2']);
    for (const m of [a, b, c, d]) expect(m.lists).toHaveLength(1);
    // Not a copy per member: the gateway frames a shared list once.
    expect(d.lists[0]).toBe(c.lists[0]);
    expect(a.role).toBe('editor');
  });

  it('tells a demoted sender its update was refused and its new role, and nobody else about it', () => {
    const [a, b, c] = four();
    const batch = [
      { member: a, ref: 1, data: bytes('a1') },
      { member: b, ref: 3, data: bytes('b3') },
    ];
    fanOut(commitFrames(batch, [true, false]), [a, b, c]);
    expect(a.heard()).toEqual(['ack 1']);
    expect(b.heard()).toEqual(['update a1', 'refused 3', 'role viewer']);
    expect(c.heard()).toEqual(['update a1']);
    expect(b.role).toBe('viewer');
    expect(a.role).toBe('editor');
  });

  it('sends members who sent nothing nothing when nothing was accepted; a sender who left still hears', () => {
    const [a, , c] = four();
    fanOut(commitFrames([{ member: a, ref: 4, data: bytes('a4') }], [false]), [c]);
    expect(c.lists).toEqual([]);
    expect(a.heard()).toEqual(['refused 4', 'role viewer']);
  });
});

describe('relay, once the transaction has committed, then fanOut (R10, R11)', () => {
  it('gives editors the updates at once; senders their acks and viewers the updates only when durable', () => {
    const [a, b, c, v] = four();
    v.role = 'viewer';
    c.role = 'owner';
    const commit = commitFrames(
      [
        { member: a, ref: 1, data: bytes('a1') },
        { member: b, ref: 7, data: bytes('b7') },
      ],
      [true, true],
    );
    const relayed = relay(commit, [a, b, c, v]);
    expect(a.heard()).toEqual(['update b7']);
    expect(b.heard()).toEqual(['update a1']);
    expect(c.heard()).toEqual(['update a1', 'update b7']);
    expect(v.heard()).toEqual([]);
    expect([...relayed].sort((x, y) => x.accountId.localeCompare(y.accountId))).toEqual([a, b, c]);

    fanOut(commit, [a, b, c, v], relayed);
    expect(a.heard()).toEqual(['update b7', 'ack 1']);
    expect(b.heard()).toEqual(['update a1', 'ack 7']);
    expect(c.heard()).toEqual(['update a1', 'update b7']);
    expect(v.heard()).toEqual(['update a1', 'update b7']);
    // Members who sent nothing still share one list.
    expect(c.lists[0]).toBe(v.lists[0]);
  });

  it('relays nothing to a sender the commit refused, and nothing refused to anyone', () => {
    const [a, b, c] = four();
    const commit = commitFrames(
      [
        { member: a, ref: 1, data: bytes('a1') },
        { member: b, ref: 3, data: bytes('b3') },
      ],
      [true, false],
    );
    const relayed = relay(commit, [a, b, c]);
    expect(a.heard()).toEqual([]);
    expect(b.heard()).toEqual([]);
    expect(c.heard()).toEqual(['update a1']);
    fanOut(commit, [a, b, c], relayed);
    expect(a.heard()).toEqual(['ack 1']);
    expect(b.heard()).toEqual(['update a1', 'refused 3', 'role viewer']);
    expect(c.heard()).toEqual(['update a1']);
  });

  it('relays nothing when the commit accepted nothing', () => {
    const [a, c] = four();
    const commit = commitFrames([{ member: a, ref: 4, data: bytes('a4') }], [false]);
    expect(relay(commit, [a, c]).size).toBe(0);
    expect(c.lists).toEqual([]);
  });
});
