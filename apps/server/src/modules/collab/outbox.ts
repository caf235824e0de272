/**
 * What goes out to one member's socket (docs/protocol/collab.md R12, R33): frames held until the member has its
 * welcome, then written; a commit's frames in one TCP write, framed once for all the members that get them; a
 * member whose socket has more unsent than the limit is dropped with 4408 instead of buffered further.
 */
import { CloseCode } from '@canopy/sdk';

/** The part of a `ws` WebSocket an outbox uses. */
export interface OutboxSocket {
  readonly readyState: number;
  readonly OPEN: number;
  /** Bytes queued and not yet handed to the kernel (ws counts its TCP socket's queue in). */
  readonly bufferedAmount: number;
  send(frame: Uint8Array): void;
  close(code: number, reason: string): void;
  terminate(): void;
}

/** The member's TCP socket, which ws writes to unmasked and unframed-for-us when permessage-deflate is off. */
export interface RawStream {
  write(bytes: Buffer): unknown;
}

export class Outbox {
  private ready = false;
  private readonly backlog: Uint8Array[] = [];
  private dropped = false;

  /**
   * A commit's frames go to every member (R12): each frame is put in WebSocket framing once (`wireFrame`,
   * shared by all members), a list of frames that members share is concatenated once (`wireBatch`), and a
   * member's frames go to its TCP socket (`tcp`: ws keeps it in `_socket`) in one write. Through `ws.send` each
   * member paid ws's framing and two stream writes per frame. With permessage-deflate off ws's sender writes
   * straight to that socket too, so the two keep their order.
   */
  constructor(
    private readonly ws: OutboxSocket,
    private readonly tcp: RawStream | undefined,
    private readonly maxBufferedBytes: number,
    /** Told when the member is dropped for falling behind. */
    private readonly onDrop?: () => void,
  ) {}

  /** The member has its welcome: what was held goes out, in order, and from now on frames go at once. */
  open(): void {
    this.ready = true;
    for (const frame of this.backlog.splice(0)) this.send(frame);
  }

  send(frame: Uint8Array): void {
    if (!this.ready) {
      if (this.ws.readyState === this.ws.OPEN && !this.dropped) this.backlog.push(frame);
      return;
    }
    if (this.writable()) this.ws.send(frame);
  }

  /** Several frames, in order, in one socket write. */
  sendAll(frames: readonly Uint8Array[]): void {
    if (!this.tcp || !this.ready) {
      for (const frame of frames) this.send(frame);
      return;
    }
    if (!this.writable()) return;
    this.tcp.write(frames.length === 1 ? wireFrame(frames[0]!) : wireBatch(frames));
  }

  /** Whether a frame may go out now; a member too far behind is dropped instead (R33). */
  private writable(): boolean {
    const ws = this.ws;
    if (ws.readyState !== ws.OPEN || this.dropped) return false;
    if (ws.bufferedAmount > this.maxBufferedBytes) {
      // A slow client must not grow our memory; it resyncs from its version vector when it reconnects (R33).
      this.dropped = true;
      this.onDrop?.();
      ws.close(CloseCode.tooSlow, 'too slow');
      setTimeout(() => ws.terminate(), 2_000).unref();
      return false;
    }
    return true;
  }
}

/** Frames in WebSocket framing, by frame: a commit's update frame is framed once for all its members. */
const wireFrames = new WeakMap<Uint8Array, Buffer>();
/** Lists of frames framed and concatenated, by list: a commit's shared list once for all who get it (fan-out.ts). */
const wireBatches = new WeakMap<readonly Uint8Array[], Buffer>();

function wireBatch(frames: readonly Uint8Array[]): Buffer {
  let wire = wireBatches.get(frames);
  if (!wire) {
    wire = Buffer.concat(frames.map(wireFrame));
    wireBatches.set(frames, wire);
  }
  return wire;
}

/** `frame` as one unmasked, unfragmented binary WebSocket frame (RFC 6455, 5.2), as a server sends it. */
export function wireFrame(frame: Uint8Array): Buffer {
  const cached = wireFrames.get(frame);
  if (cached) return cached;
  const length = frame.byteLength;
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const wire = Buffer.allocUnsafe(header + length);
  wire[0] = 0x82; // FIN, binary
  if (header === 2) wire[1] = length;
  else if (header === 4) {
    wire[1] = 126;
    wire.writeUInt16BE(length, 2);
  } else {
    wire[1] = 127;
    wire.writeBigUInt64BE(BigInt(length), 2);
  }
  wire.set(frame, header);
  wireFrames.set(frame, wire);
  return wire;
}
