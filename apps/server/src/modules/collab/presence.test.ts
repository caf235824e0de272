/**
 * A room's presence store on its own (docs/protocol/collab.md R17-R19), with members that record their frames.
 * The end-to-end behaviour over sockets is in presence.int.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PresenceStore } from '@canopy/model';
import { decodeServer, presenceKey, presencePeerFrom, type PresencePeer } from '@canopy/sdk';
import { RoomPresence, type PresenceMember } from './presence.ts';

const open: { destroy(): void }[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const o of open.splice(0)) o.destroy();
});

/** A member whose client store applies every presence frame it is sent, as the SDK's does. */
function member(session: number, accountId: string) {
  const store = new PresenceStore(60_000);
  open.push(store);
  const frames: Uint8Array[] = [];
  const m: PresenceMember & { frames: Uint8Array[]; peers(): PresencePeer[] } = {
    session,
    accountId,
    frames,
    send(frame) {
      frames.push(frame);
      const decoded = decodeServer(frame);
      if (decoded.type === 'presence') store.apply(decoded.update);
    },
    peers: () => Object.entries(store.states()).flatMap(([k, v]) => presencePeerFrom(k, v) ?? []),
  };
  return m;
}

/** The update a member's client sends for its own key. */
function says(session: number, state: unknown): Uint8Array {
  const store = new PresenceStore(60_000);
  open.push(store);
  if (state === null) store.delete(presenceKey(session));
  else store.set(presenceKey(session), state);
  return store.encode(presenceKey(session));
}

function room(timeoutMs = 60_000): RoomPresence {
  const r = new RoomPresence(timeoutMs);
  open.push({ destroy: () => r.close() });
  return r;
}

/** A room with two members in it, Ada (session 1) and Bob (session 2). */
function adaAndBob() {
  const r = room();
  const ada = member(1, 'ada');
  const bob = member(2, 'bob');
  r.join(ada);
  r.join(bob);
  return { r, ada, bob };
}

describe('RoomPresence', () => {
  it("stamps a member's state with its account and passes it to the others, not back to it (R17, R18)", () => {
    const { r, ada, bob } = adaAndBob();
    expect(r.write(ada, says(1, { selection: 'x' }))).toBeUndefined();
    expect(bob.peers()).toEqual([{ session: 1, accountId: 'ada', state: { selection: 'x' } }]);
    expect(ada.frames).toEqual([]);
  });

  it('refuses a write of another key and changes nothing (R18)', () => {
    const { r, ada, bob } = adaAndBob();
    r.write(ada, says(1, { name: 'Ada' }));
    expect(r.write(bob, says(1, { name: 'Ada (forged)' }))).toBe('not-own-key');
    expect(r.write(bob, says(1, null))).toBe('not-own-key');
    expect(r.write(bob, new Uint8Array([7, 7, 7]))).toBe('malformed');
    const carol = member(3, 'carol');
    r.join(carol);
    carol.send(r.snapshot()!);
    expect(carol.peers()).toEqual([{ session: 1, accountId: 'ada', state: { name: 'Ada' } }]);
  });

  it('does not pass on a state that has not changed (a refresh, R19)', () => {
    const { r, ada, bob } = adaAndBob();
    r.write(ada, says(1, { selection: 'x' }));
    r.write(ada, says(1, { selection: 'x' }));
    expect(bob.frames).toHaveLength(1);
  });

  it('never writes a key twice in one millisecond: a state then its leave both reach the others (R19)', async () => {
    let now = Date.now();
    vi.spyOn(Date, 'now').mockImplementation(() => now);
    const { r, ada, bob } = adaAndBob();
    r.write(ada, says(1, { selection: 'x' }));
    r.leave(ada);
    // The deletion waits for the next millisecond: in this one the others would drop it as no newer.
    expect(bob.peers()).toHaveLength(1);
    now += 1;
    await vi.waitFor(() => expect(bob.peers()).toEqual([]));
    expect(bob.frames).toHaveLength(2);
  });

  it('waits out a clock that stepped back rather than send writes every client would ignore (R19)', async () => {
    let now = Date.now();
    vi.spyOn(Date, 'now').mockImplementation(() => now);
    const { r, ada, bob } = adaAndBob();
    r.write(ada, says(1, { selection: 'x' }));
    now -= 5_000;
    r.write(ada, says(1, { selection: 'y' }));
    r.write(ada, says(1, { selection: 'z' }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(bob.frames).toHaveLength(1);
    now += 5_001;
    // Only the latest of the writes that waited is made.
    await vi.waitFor(() => expect(bob.peers()[0]?.state).toEqual({ selection: 'z' }));
    expect(bob.frames).toHaveLength(2);
  });

  it('expires a state not refreshed in time and sends the deletion to the others only (R19)', async () => {
    const r = room(100);
    const ada = member(1, 'ada');
    const bob = member(2, 'bob');
    r.join(ada);
    r.join(bob);
    r.write(ada, says(1, { selection: 'x' }));
    expect(bob.peers()).toHaveLength(1);
    await vi.waitFor(() => expect(bob.peers()).toEqual([]), { timeout: 2_000 });
    expect(ada.frames).toEqual([]);
    expect(r.snapshot()).toBeUndefined();
  });

  describe('between nodes (R17)', () => {
    /** Two nodes' rooms for one map, each relaying to the other as the bus would (unless `cut`). */
    function twoNodes(timeoutMs = 60_000) {
      const relayed: { from: 'one' | 'two'; update: Uint8Array }[] = [];
      const link = { cut: false };
      const linked: { one?: RoomPresence; two?: RoomPresence } = {};
      const one = new RoomPresence(timeoutMs, (update) => {
        relayed.push({ from: 'one', update });
        if (!link.cut) linked.two?.applyRemote(update, 'one');
      });
      const two = new RoomPresence(timeoutMs, (update) => {
        relayed.push({ from: 'two', update });
        if (!link.cut) linked.one?.applyRemote(update, 'two');
      });
      Object.assign(linked, { one, two });
      open.push({ destroy: () => one.close() }, { destroy: () => two.close() });
      return { one, two, relayed, link };
    }

    /** Ada on node one and Bob on node two, each with a state the other node has. */
    function adaOnOneBobOnTwo() {
      const nodes = twoNodes();
      const ada = member(1, 'ada');
      const bob = member(2, 'bob');
      nodes.one.join(ada);
      nodes.two.join(bob);
      nodes.one.write(ada, says(1, { selection: 'x' }));
      nodes.two.write(bob, says(2, { selection: 'y' }));
      return { ...nodes, ada, bob };
    }

    it("relays its members' states and deletions, and passes on the other node's", async () => {
      const { one, two, relayed } = twoNodes();
      const ada = member(1, 'ada');
      const bob = member(2, 'bob');
      one.join(ada);
      two.join(bob);
      one.write(ada, says(1, { selection: 'x' }));
      expect(bob.peers()).toEqual([{ session: 1, accountId: 'ada', state: { selection: 'x' } }]);
      two.write(bob, says(2, { selection: 'y' }));
      expect(ada.peers()).toEqual([{ session: 2, accountId: 'bob', state: { selection: 'y' } }]);
      // A refresh is relayed (the other node's store would expire the state) but nobody hears of it again.
      // (In the same millisecond as the first write, the refresh waits for the next one.)
      const frames = bob.frames.length;
      one.write(ada, says(1, { selection: 'x' }));
      await vi.waitFor(() => expect(relayed.filter((r) => r.from === 'one')).toHaveLength(2), {
        timeout: 2_000,
      });
      expect(bob.frames).toHaveLength(frames);
      one.leave(ada);
      // (In the same millisecond as the refresh, the deletion waits for the next one.)
      await vi.waitFor(() => expect(bob.peers()).toEqual([]), { timeout: 2_000 });
      // What came from the other node is never relayed back.
      expect(relayed.filter((r) => r.from === 'two')).toHaveLength(1);
    });

    it("expires the other node's states here without deleting them there", async () => {
      const { one, two, relayed, link } = twoNodes(300);
      const ada = member(1, 'ada');
      const bob = member(2, 'bob');
      one.join(ada);
      two.join(bob);
      one.write(ada, says(1, { selection: 'x' }));
      expect(bob.peers()).toHaveLength(1);
      link.cut = true;
      // Ada keeps refreshing on node one; node two hears nothing and expires her state for its members.
      const refresh = setInterval(() => one.write(ada, says(1, { selection: 'x' })), 50);
      try {
        await vi.waitFor(() => expect(bob.peers()).toEqual([]), { timeout: 2_000 });
      } finally {
        clearInterval(refresh);
      }
      expect(relayed.filter((r) => r.from === 'two')).toEqual([]);
      expect(one.snapshot()).toBeDefined();
    });

    it("answers for its own members only, and an answer deletes what that node's members no longer hold", async () => {
      const { one, two, link, relayed, ada, bob } = adaOnOneBobOnTwo();
      const three = room();
      const cy = member(3, 'cy');
      three.join(cy);
      // Node one holds bob's state (from node two): its answer carries ada's alone.
      const answer = one.answer();
      expect(answer.own).toEqual([presenceKey(1)]);
      expect(answer.updates).toHaveLength(1);
      three.applyAnswer('one', answer);
      three.applyAnswer('two', two.answer());
      expect(
        cy
          .peers()
          .map((p) => p.accountId)
          .sort(),
      ).toEqual(['ada', 'bob']);

      // Ada leaves while node two is not listening: her deletion is lost on the way.
      link.cut = true;
      await new Promise((r) => setTimeout(r, 2));
      one.leave(ada);
      link.cut = false;
      expect(bob.peers().map((p) => p.accountId)).toEqual(['ada']);
      // Node one's answer (after the link came back) lacks her key: node two deletes it and tells bob. An
      // answer from another node changes nothing of node one's keys.
      two.applyAnswer('three', three.answer());
      expect(bob.peers().map((p) => p.accountId)).toEqual(['ada']);
      const relayedByTwo = relayed.filter((r) => r.from === 'two').length;
      two.applyAnswer('one', one.answer());
      await vi.waitFor(() => expect(bob.peers()).toEqual([]), { timeout: 2_000 });
      // Nor is the deletion relayed on: it was node one's to make.
      expect(relayed.filter((r) => r.from === 'two')).toHaveLength(relayedByTwo);
    });

    it("forgets a dead node's members, and only theirs, without relaying it", async () => {
      let now = Date.now();
      vi.spyOn(Date, 'now').mockImplementation(() => now);
      const { one, two, relayed, bob } = adaOnOneBobOnTwo();
      const relayedByTwo = relayed.filter((r) => r.from === 'two').length;
      two.forgetNode('three');
      expect(bob.peers().map((p) => p.accountId)).toEqual(['ada']);
      two.forgetNode('one');
      // In the millisecond ada's state arrived the deletion would be no newer, and bob's client would keep it.
      expect(bob.peers()).toHaveLength(1);
      now += 1;
      await vi.waitFor(() => expect(bob.peers()).toEqual([]), { timeout: 2_000 });
      expect(relayed.filter((r) => r.from === 'two')).toHaveLength(relayedByTwo);
      // Node one is not told: ada's state stands there.
      expect(one.snapshot()).toBeDefined();
    });

    /**
     * Two nodes whose clocks disagree: node two's runs `skewMs` ahead of node one's (behind if negative). Loro's
     * stores read `Date.now` too; what runs on node two (its calls, and node one's relays as node two applies
     * them) runs on node two's clock. Timers run on node one's.
     */
    function skewedNodes(skewMs: number, timeoutMs = 60_000) {
      const real = Date.now.bind(Date);
      let offset = 0;
      vi.spyOn(Date, 'now').mockImplementation(() => real() + offset);
      const on = <T>(skew: number, f: () => T): T => {
        const before = offset;
        offset = skew;
        try {
          return f();
        } finally {
          offset = before;
        }
      };
      const onTwo = <T>(f: () => T): T => on(skewMs, f);
      const relayed: { from: 'one' | 'two'; update: Uint8Array }[] = [];
      const link = { cut: false };
      const linked: { one?: RoomPresence; two?: RoomPresence } = {};
      const one = new RoomPresence(timeoutMs, (update) => {
        relayed.push({ from: 'one', update });
        if (!link.cut) onTwo(() => linked.two?.applyRemote(update, 'one'));
      });
      const two = new RoomPresence(timeoutMs, (update) => {
        relayed.push({ from: 'two', update });
        if (!link.cut) on(0, () => linked.one?.applyRemote(update, 'two'));
      });
      Object.assign(linked, { one, two });
      open.push({ destroy: () => one.close() }, { destroy: () => two.close() });
      const ada = member(1, 'ada');
      const bob = member(2, 'bob');
      one.join(ada);
      onTwo(() => two.join(bob));
      return { one, two, ada, bob, onTwo, relayed, link };
    }
    const tick = () => new Promise((resolve) => setTimeout(resolve, 3));

    it("shows the states of a node whose clock runs behind, in that node's order (R17)", async () => {
      // 200 s behind: Loro's store would drop each of its entries on arrival as expired (timeout 60 s).
      const { one, two, ada, bob, onTwo, relayed } = skewedNodes(-200_000);
      onTwo(() => two.write(bob, says(2, { selection: 'y' })));
      expect(ada.peers()).toEqual([{ session: 2, accountId: 'bob', state: { selection: 'y' } }]);
      const first = relayed.find((r) => r.from === 'two')!.update;
      await tick();
      onTwo(() => two.write(bob, says(2, { selection: 'z' })));
      expect(ada.peers()[0]?.state).toEqual({ selection: 'z' });
      // An older write of that node's arriving late (an answer overtaken by a relay) changes nothing.
      one.applyRemote(first, 'two');
      expect(ada.peers()[0]?.state).toEqual({ selection: 'z' });
      await tick();
      onTwo(() => two.leave(bob));
      expect(ada.peers()).toEqual([]);
    });

    it("expires and deletes a node's states by this node's clock when that node's runs ahead (R17, R19)", async () => {
      const { one, two, ada, bob, onTwo, link } = skewedNodes(200_000, 300);
      onTwo(() => two.write(bob, says(2, { selection: 'y' })));
      expect(ada.peers()).toHaveLength(1);
      // Node two is taken for dead: the deletion reaches ada's client, which keeps an entry unless an incoming
      // one is newer (stamped 200 s ahead, bob's state would outlive it).
      await tick();
      one.forgetNode('two');
      await vi.waitFor(() => expect(ada.peers()).toEqual([]), { timeout: 2_000 });
      // It was not: its next write brings bob back.
      await tick();
      onTwo(() => two.write(bob, says(2, { selection: 'z' })));
      expect(ada.peers()[0]?.state).toEqual({ selection: 'z' });
      // Nothing more arrives from node two: bob's state expires here after the timeout, not 200 s later.
      link.cut = true;
      await vi.waitFor(() => expect(ada.peers()).toEqual([]), { timeout: 2_000 });
      expect(one.snapshot()).toBeUndefined();
    });

    it("keeps up with another node's members coming and going (its copy made anew past 64 deletions)", async () => {
      const { two, ada, onTwo } = skewedNodes(0);
      for (let session = 10; session < 90; session++) {
        const m = member(session, `m${session}`);
        onTwo(() => two.join(m));
        onTwo(() => two.write(m, says(session, { selection: session })));
        if (session !== 50) onTwo(() => two.leave(m));
      }
      // (A leave in the millisecond of its state waits for the next one.)
      await vi.waitFor(() => expect(ada.peers().map((p) => p.accountId)).toEqual(['m50']), {
        timeout: 2_000,
      });
    });

    it('draws session numbers the room does not know', () => {
      const { one } = twoNodes();
      const taken = new Set<number>();
      for (let i = 0; i < 200; i++) {
        const session = one.freeSession();
        expect(session).toBeGreaterThan(0);
        expect(session).toBeLessThan(2 ** 32);
        expect(taken.has(session)).toBe(false);
        taken.add(session);
        one.join(member(session, 'x'));
      }
    });
  });
});
