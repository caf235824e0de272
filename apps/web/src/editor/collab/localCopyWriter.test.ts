import { describe, expect, it } from 'vitest';
import { LocalCopyRefused, type LocalCopy, type LocalCopyStore } from './localCopies.ts';
import { LocalCopyWriter } from './localCopyWriter.ts';

/** Timers the test runs by hand, on a clock it moves. */
function manualTimers() {
  let now = 0;
  const timers = new Map<number, { at: number; run: () => void }>();
  let next = 1;
  return {
    now: () => now,
    setTimer: (run: () => void, ms: number) => {
      timers.set(next, { at: now + ms, run });
      return next++;
    },
    clearTimer: (id: unknown) => void timers.delete(id as number),
    advance(ms: number) {
      now += ms;
      for (const [id, t] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
        if (t.at > now) continue;
        timers.delete(id);
        t.run();
      }
    },
  };
}

function recordingStore(fail?: () => Error) {
  const writes: LocalCopy[] = [];
  const marked: string[] = [];
  const store: LocalCopyStore = {
    read: async () => undefined,
    write: async (_account, _map, copy) => {
      if (fail) throw fail();
      writes.push(copy);
    },
    markSaved: async (_account, map, writer) => void marked.push(`${map} by ${writer}`),
    remove: async () => undefined,
    clear: async () => undefined,
  };
  return { store, writes, marked };
}

const flushPromises = () => new Promise((resolve) => setTimeout(resolve, 0));

function writerOver(store: LocalCopyStore, state: { version: number; pending: boolean }) {
  const timers = manualTimers();
  const problems: (string | undefined)[] = [];
  const writer = new LocalCopyWriter({
    store,
    accountId: 'ada',
    mapId: 'm1',
    writer: 'tab1',
    source: {
      snapshot: () => new Uint8Array([state.version]),
      pending: () => state.pending,
      role: () => 'editor',
    },
    onProblem: (message) => problems.push(message),
    localDelayMs: 1_000,
    remoteDelayMs: 30_000,
    ...timers,
  });
  return { writer, timers, problems };
}

describe('LocalCopyWriter', () => {
  it('writes within a second of the first unwritten local edit, with the state at the time of writing', async () => {
    const { store, writes } = recordingStore();
    const state = { version: 1, pending: true };
    const { writer, timers } = writerOver(store, state);
    writer.localChange();
    timers.advance(600);
    state.version = 2;
    writer.localChange();
    expect(writes).toEqual([]);
    timers.advance(400);
    await flushPromises();
    expect(writes).toMatchObject([
      { snapshot: new Uint8Array([2]), pending: true, role: 'editor', writer: 'tab1' },
    ]);
    // Typing on and on still writes every second, not only after the burst ends.
    writer.localChange();
    timers.advance(1_000);
    await flushPromises();
    expect(writes).toHaveLength(2);
  });

  it("writes others' edits rarely, and a local edit brings the write forward", async () => {
    const { store, writes } = recordingStore();
    const { writer, timers } = writerOver(store, { version: 1, pending: false });
    writer.remoteChange();
    timers.advance(5_000);
    expect(writes).toHaveLength(0);
    writer.localChange();
    timers.advance(1_000);
    await flushPromises();
    expect(writes).toHaveLength(1);
    timers.advance(30_000);
    await flushPromises();
    expect(writes).toHaveLength(1);
  });

  it('flush writes at once only if something changed; saved() marks a pending copy saved once', async () => {
    const { store, writes, marked } = recordingStore();
    const state = { version: 1, pending: true };
    const { writer } = writerOver(store, state);
    await writer.flush();
    expect(writes).toHaveLength(0);
    writer.localChange();
    await writer.flush();
    expect(writes).toHaveLength(1);
    state.pending = false;
    writer.saved();
    writer.saved();
    await flushPromises();
    expect(marked).toEqual(['m1 by tab1']);
  });

  it('reports a refused copy with its message, and clears it once a write succeeds', async () => {
    let refuse = true;
    const { store } = recordingStore(() => (refuse ? new LocalCopyRefused('refused') : new Error('no')));
    const { writer, problems } = writerOver(store, { version: 1, pending: true });
    writer.localChange();
    await writer.flush();
    expect(problems).toEqual([new LocalCopyRefused('refused').message]);
    refuse = false;
    writer.localChange();
    await writer.flush();
    // Any other failure is shown as the browser refusing too.
    expect(problems.at(-1)).toBe(new LocalCopyRefused('refused').message);
  });
});
