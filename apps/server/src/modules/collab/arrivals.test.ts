import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MindMap, ServerReplica } from '@canopy/model';
import { Arrivals, HOLD_MS, type Arrival } from './arrivals.ts';

const turn = () => new Promise((resolve) => setImmediate(resolve));
/**
 * Every test runs on a fake clock (`performance.now()` and timers; turns stay real), on which the hold time
 * passes only when a test says so: on a busy machine a turn of the event loop can outlast the hold time itself,
 * and an update held back would be released before the test looked.
 */
const holdTimePasses = async () => {
  vi.advanceTimersByTime(HOLD_MS + 15);
  await turn();
};
beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
afterEach(() => void vi.useRealTimers());

/**
 * A server replica of a map with one topic (already typed into once, so typing into it is admitted from its
 * operations), a typist's keystrokes as updates, and arrivals admitted into the replica in a recorded order.
 */
function setUp() {
  const origin = MindMap.create('t');
  const topic = origin.addTopic(origin.centralTopicId(), undefined, { text: 'a' });
  const open = (peer: bigint) => {
    const map = MindMap.fromSnapshot(origin.exportSnapshot(), { peerId: peer });
    if (!map.ok) throw map.error;
    return map.value;
  };
  // An update that builds only on what the replica has: another person's edit of the title.
  const other = open(2n);
  const fromOther: Uint8Array[] = [];
  other.onLocalUpdate((update) => fromOther.push(update));
  other.setTitle('x');
  const ready = fromOther[0]!;
  const typist = open(1n);
  const keystrokes: Uint8Array[] = [];
  typist.onLocalUpdate((update) => keystrokes.push(update));
  const type = (n: number) => {
    keystrokes.length = 0;
    for (let i = 0; i < n; i++) typist.editText(topic, 1, 0, String(i));
    return [...keystrokes];
  };
  const replica = ServerReplica.fromMap(origin);
  const [first] = type(1);
  replica.importUpdateBatch([first!]); // checked: later typing in this text is admitted from its operations
  const order: number[] = [];
  const pending: boolean[] = [];
  let turns = 0;
  const arrivals = new Arrivals<string>(
    () => replica,
    ({ ref, data }: Arrival<string>) => {
      order.push(ref);
      const [result] = replica.importUpdateBatch([data]);
      if (!result?.ok) throw new Error(`refused: ${result?.error.message}`);
      pending.push(result.value.pending);
    },
    () => turns++,
  );
  return { type, replica, arrivals, order, pending, turns: () => turns, ready };
}

describe('arrivals (docs/protocol/collab.md R12, R16)', () => {
  it('admits the updates of one turn in the order they build on each other, each on its own', async () => {
    const { type, replica, arrivals, order, pending, turns } = setUp();
    const [a, b, c] = type(3) as [Uint8Array, Uint8Array, Uint8Array];
    // Three senders whose updates raced: the last one made arrives first.
    arrivals.add('x', 3, c);
    arrivals.add('y', 2, b);
    arrivals.add('z', 1, a);
    expect(arrivals.arriving).toBe(true);
    await turn();
    expect(order).toEqual([1, 2, 3]);
    expect(pending).toEqual([false, false, false]);
    expect(turns()).toBe(1);
    // Each keystroke followed the log's latest version when it went in: all three admitted as typing.
    expect(replica.unsettledCount).toBe(3);
  });

  it('holds back an update whose predecessors come in a later turn, and admits it after them', async () => {
    const { type, replica, arrivals, order, pending, ready } = setUp();
    const [a, b, c] = type(3) as [Uint8Array, Uint8Array, Uint8Array];
    arrivals.add('x', 3, c);
    arrivals.add('w', 9, ready);
    await turn();
    expect(order).toEqual([9]);
    arrivals.add('y', 1, a);
    await turn();
    expect(order).toEqual([9, 1]); // `c` still needs `b`
    arrivals.add('z', 2, b);
    await turn();
    expect(order).toEqual([9, 1, 2, 3]);
    expect(pending).toEqual([false, false, false, false]);
    expect(replica.unsettledCount).toBe(4); // all four as typing (the title is typing too)
  });

  it('admits a lone update as it comes, without reading what it needs', async () => {
    const { type, arrivals, order, pending } = setUp();
    const [, b] = type(2) as [Uint8Array, Uint8Array];
    arrivals.add('x', 2, b);
    await turn();
    expect(order).toEqual([2]);
    expect(pending).toEqual([true]); // it waits inside the replica
  });

  it("keeps a member's updates in its order: a later one that is ready waits behind a held one", async () => {
    const { type, arrivals, order, ready } = setUp();
    const [a, b] = type(2) as [Uint8Array, Uint8Array];
    arrivals.add('x', 10, b); // needs `a`
    arrivals.add('x', 11, ready); // from the same member: its ack must follow ref 10's
    arrivals.add('y', 20, ready); // the same bytes from another member are not held up
    await turn();
    expect(order).toEqual([20]);
    arrivals.add('z', 1, a);
    await turn();
    expect(order).toEqual([20, 1, 10, 11]);
  });

  it('admits a held update anyway when what it needs has not come within the hold time', async () => {
    const { type, arrivals, order, pending, replica, ready } = setUp();
    const [, b] = type(2) as [Uint8Array, Uint8Array];
    arrivals.add('x', 2, b);
    arrivals.add('w', 9, ready);
    await turn();
    expect(order).toEqual([9]);
    await holdTimePasses();
    expect(order).toEqual([9, 2]);
    expect(pending).toEqual([false, true]); // it waits inside the replica now
    expect(replica.hasPendingUpdates()).toBe(true);
  });

  it('admits what is held at once when asked (a flush), and drops it when closed', async () => {
    const first = setUp();
    const [, b] = first.type(2) as [Uint8Array, Uint8Array];
    first.arrivals.add('x', 2, b);
    first.arrivals.add('w', 9, first.ready);
    await turn();
    expect(first.arrivals.release()).toBe(true);
    expect(first.order).toEqual([9, 2]);
    expect(first.arrivals.release()).toBe(false);

    const second = setUp();
    const [, d] = second.type(2) as [Uint8Array, Uint8Array];
    second.arrivals.add('x', 2, d);
    second.arrivals.add('w', 9, second.ready);
    await turn();
    second.arrivals.close();
    second.arrivals.add('x', 3, d);
    await holdTimePasses();
    expect(second.order).toEqual([9]);
  });

  it('admits bytes that are not an update at once, for the replica to refuse', async () => {
    const { replica } = setUp();
    const refused: number[] = [];
    const own = new Arrivals<string>(
      () => replica,
      ({ ref, data }) => {
        const [result] = replica.importUpdateBatch([data]);
        if (!result?.ok) refused.push(ref);
      },
      () => undefined,
    );
    own.add('x', 7, new Uint8Array([1, 2, 3]));
    await turn();
    expect(refused).toEqual([7]);
  });
});
