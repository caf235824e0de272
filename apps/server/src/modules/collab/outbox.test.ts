import { afterEach, describe, expect, it, vi } from 'vitest';
import { CloseCode } from '@canopy/sdk';
import { Outbox, wireFrame, type OutboxSocket } from './outbox.ts';

/** A socket whose unsent bytes the test sets. */
class FakeSocket implements OutboxSocket {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: Uint8Array[] = [];
  closed: { code: number; reason: string } | undefined;
  terminated = false;
  send(frame: Uint8Array): void {
    this.sent.push(frame);
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason };
    this.readyState = 2;
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
  }
}

const frame = (...bytes: number[]) => new Uint8Array(bytes);

describe('Outbox', () => {
  afterEach(() => vi.useRealTimers());

  it('holds frames until the welcome is out, then sends them in order before later ones', () => {
    const ws = new FakeSocket();
    const outbox = new Outbox(ws, undefined, 1024);
    outbox.send(frame(1));
    outbox.sendAll([frame(2), frame(3)]);
    expect(ws.sent).toEqual([]);
    outbox.open();
    outbox.send(frame(4));
    expect(ws.sent).toEqual([frame(1), frame(2), frame(3), frame(4)]);
  });

  it('writes a commit’s frames to the TCP socket in one write, framed (RFC 6455) once for every member', () => {
    const writes: Buffer[] = [];
    const tcp = { write: (bytes: Buffer) => writes.push(bytes) };
    const shared = [frame(7, 7), new Uint8Array(300).fill(9)];
    const a = new Outbox(new FakeSocket(), tcp, 1024);
    const b = new Outbox(new FakeSocket(), tcp, 1024);
    a.open();
    b.open();
    a.sendAll(shared);
    b.sendAll(shared);
    expect(writes).toHaveLength(2);
    expect(writes[1]).toBe(writes[0]);
    const expected = Buffer.concat([
      Buffer.from([0x82, 2, 7, 7]),
      Buffer.concat([Buffer.from([0x82, 126, 1, 44]), Buffer.alloc(300, 9)]),
    ]);
    expect(writes[0]!.equals(expected)).toBe(true);
    expect(wireFrame(new Uint8Array(70_000))[1]).toBe(127);
  });

  it('drops a member whose socket has more unsent than the limit with 4408, and sends it nothing more (R33)', () => {
    vi.useFakeTimers();
    const ws = new FakeSocket();
    const writes: Buffer[] = [];
    let drops = 0;
    const outbox = new Outbox(ws, { write: (bytes: Buffer) => writes.push(bytes) }, 1024, () => drops++);
    outbox.open();
    outbox.send(frame(1));
    ws.bufferedAmount = 1025;
    outbox.sendAll([frame(2)]);
    expect(ws.closed).toEqual({ code: CloseCode.tooSlow, reason: 'too slow' });
    ws.readyState = 1; // a close handshake still under way: the socket may still read as open
    outbox.send(frame(3));
    outbox.sendAll([frame(4)]);
    expect(ws.sent).toEqual([frame(1)]);
    expect(writes).toEqual([]);
    expect(drops).toBe(1);
    // A peer that never answers the close is cut off.
    vi.advanceTimersByTime(2_000);
    expect(ws.terminated).toBe(true);
  });

  it('sends nothing to a socket that is no longer open', () => {
    const ws = new FakeSocket();
    const outbox = new Outbox(ws, undefined, 1024);
    ws.readyState = 3;
    outbox.send(frame(1));
    outbox.open();
    outbox.send(frame(2));
    expect(ws.sent).toEqual([]);
    expect(ws.closed).toBeUndefined();
  });
});
