/** The co-editing client's options and events (client.ts). */
import type { MindMap, MindMapOptions } from '@canopy/model';
import type { PresencePeer, Problem, Role } from './protocol.ts';
import type { SaveState } from './saving.ts';

/** The part of the WebSocket API this client uses (the browser's, and `ws`'s). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export type ConnectionStatus = 'connecting' | 'syncing' | 'online' | 'offline' | 'closed';

export interface CollabClientOptions {
  /**
   * A replica of this map to keep in step (e.g. loaded from local storage, maybe with offline edits). Without
   * one, the client builds its replica from the first welcome (`map`, the `load` event).
   */
  map?: MindMap;
  /**
   * The given `map` may hold local edits the server lacks (made offline before a reload): they go out with the
   * first welcome's catch-up, and `saveState` is `unsynced` until the server has stored them.
   */
  pendingEdits?: boolean;
  /** Options of the replica built from the first welcome (e.g. a fixed peer id). */
  mapOptions?: MindMapOptions;
  /** The socket URL, e.g. `wss://host/api/v1/collab/<id>?ticket=...`; called before every (re)connect. */
  url: () => string | Promise<string>;
  WebSocket: WebSocketConstructor;
  /** First retry delay and the cap (ms). Default 250 and 10 000. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Test hook: the protocol version sent in hello. */
  protocolVersion?: number;
  /**
   * How often this client's presence is sent again while unchanged, so that the server does not expire it
   * (R19; the server's timeout is 90 s by default). Default 20 000 ms.
   */
  presenceRefreshMs?: number;
}

export interface CollabClientEvents {
  /** The replica exists (at once with `options.map`, else after the first welcome). */
  load: (map: MindMap) => void;
  status: (status: ConnectionStatus) => void;
  save: (state: SaveState) => void;
  presence: (peers: ReadonlyMap<number, PresencePeer>) => void;
  role: (role: Role) => void;
  /** An update of ours was refused (it stays local and unsynced). */
  refused: (problem: Problem) => void;
  /** The server said something went wrong, or closed for good (`closed` status follows). */
  error: (problem: Problem & { closeCode?: number }) => void;
  /**
   * The connection closed and the client reconnects with backoff (`offline` status follows): the close's code
   * says why, e.g. `CloseCode.tooManyConnections` when the account has too many open elsewhere.
   */
  dropped: (close: { code: number; reason: string }) => void;
}
