/** Test support for code built on CollabClient: a socket the test plays the server for. */
import { PresenceStore, readOwnPresenceUpdate, type OwnPresenceUpdate } from '@canopy/model';
import type { WebSocketLike } from './client.ts';
import { decodeClient, encodeServer, presenceKey, type ClientFrame, type PresenceEntry } from './protocol.ts';

/** Records what the client sends (decoded) and delivers what the test says; every instance is kept in `all`. */
export class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  binaryType = 'blob';
  readyState = 0;
  readonly sent: ClientFrame[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  /** The socket the client opened most recently. */
  static get last(): FakeSocket | undefined {
    return FakeSocket.all.at(-1);
  }

  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: Uint8Array): void {
    this.sent.push(decodeClient(data));
  }
  close(): void {
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(frame: Uint8Array): void {
    this.onmessage?.({ data: frame.slice().buffer });
  }
  /** The update frames sent so far. */
  updates(): ClientFrame[] {
    return this.sent.filter((f) => f.type === 'update');
  }
  serverClose(code: number): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
}

/**
 * Plays the room's presence store for a test (docs/protocol/collab.md R17): each call gives the frame the server
 * would send. Call `destroy()` when done.
 */
export class FakeRoomPresence {
  private readonly store = new PresenceStore(60_000);
  private lastWrite = 0;

  /** The frame announcing (or changing) a member's state. */
  set(session: number, accountId: string, state: unknown): Uint8Array {
    const entry: PresenceEntry = { accountId, state };
    this.nextMillisecond();
    this.store.set(presenceKey(session), entry);
    this.lastWrite = Date.now();
    return encodeServer.presence(this.store.encode(presenceKey(session)));
  }

  /** The frame removing a member's state (it left, or its state expired). */
  remove(session: number): Uint8Array {
    this.nextMillisecond();
    this.store.delete(presenceKey(session));
    this.lastWrite = Date.now();
    return encodeServer.presence(this.store.encode(presenceKey(session)));
  }

  destroy(): void {
    this.store.destroy();
  }

  /** As the server does (R19): a client drops a write no newer, in milliseconds, than the one it holds. */
  private nextMillisecond(): void {
    while (Date.now() <= this.lastWrite) continue;
  }
}

/** What a client's presence frame says about its own key (`session`'s), as the server reads it (R18). */
export function presenceSent(frame: ClientFrame | undefined, session: number): OwnPresenceUpdate | undefined {
  if (frame?.type !== 'presence') return undefined;
  const read = readOwnPresenceUpdate(frame.update, presenceKey(session));
  return read.ok ? read.value : undefined;
}
