import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { LogTail } from '../maps/index.ts';
import { CatchUp, type CatchUpRoom } from './catch-up.ts';
import { LogPosition } from './log-position.ts';

/** A room whose log holds entries 1..head (each entry's bytes its seq); reads resolve when `release` is called. */
function fakeRoom(head: { seq: number }) {
  const absorbed: number[] = [];
  const reads: { afterSeq: number; release: () => void }[] = [];
  let gone = false;
  let settled = 0;
  const room: CatchUpRoom = {
    mapId: 'm1',
    position: new LogPosition(0),
    isClosed: () => gone,
    readAfter: (afterSeq) =>
      new Promise<LogTail | undefined>((resolve) =>
        reads.push({
          afterSeq,
          release: () => {
            if (head.seq < 0) return resolve(undefined);
            const entries = [];
            for (let seq = afterSeq + 1; seq <= head.seq; seq++)
              entries.push({ seq, data: Uint8Array.of(seq) });
            resolve({ entries, headSeq: head.seq });
          },
        }),
      ),
    absorb: (data) => absorbed.push(data[0]!),
    gone: () => {
      gone = true;
    },
    settled: () => settled++,
  };
  return { room, absorbed, reads, settledCount: () => settled };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('CatchUp (R20)', () => {
  it('coalesces calls made during a pass into one more pass, and reads from where the last one ended', async () => {
    const head = { seq: 2 };
    const { room, absorbed, reads, settledCount } = fakeRoom(head);
    const catchUp = new CatchUp(room, pino({ level: 'silent' }));
    catchUp.run();
    catchUp.run();
    head.seq = 4;
    catchUp.run();
    expect(catchUp.busy).toBe(true);
    expect(reads).toHaveLength(1);
    reads[0]!.release();
    await flush();
    expect(reads.map((r) => r.afterSeq)).toEqual([0, 4]);
    reads[1]!.release();
    await catchUp.idle();
    expect(absorbed).toEqual([1, 2, 3, 4]);
    expect(room.position.seq).toBe(4);
    expect(catchUp.busy).toBe(false);
    expect(settledCount()).toBe(1);
  });

  it('tells the room when the map is gone, and does nothing once it is closed', async () => {
    const head = { seq: -1 };
    const { room, reads } = fakeRoom(head);
    const catchUp = new CatchUp(room, pino({ level: 'silent' }));
    catchUp.run();
    reads[0]!.release();
    await catchUp.idle();
    expect(room.isClosed()).toBe(true);
    catchUp.run();
    expect(catchUp.busy).toBe(false);
    expect(reads).toHaveLength(1);
  });
});
