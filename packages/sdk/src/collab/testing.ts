/** Test support for code built on CollabClient: a socket the test plays the server for. */
import type { WebSocketLike } from './client.ts';
import { decodeClient, type ClientFrame } from './protocol.ts';

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
