/**
 * The co-editing client for Node and the browser: keeps a `MindMap` in step with a map's room.
 *
 * - connect, and reconnect with exponential backoff and jitter (a fresh URL each time: tickets are single-use);
 * - the offline queue is the document itself: edits made while disconnected are sent on reconnect as one
 *   update, everything the server lacks (`exportUpdatesSince(server's version vector)`), so nothing is queued
 *   twice and nothing grows without bound beyond the edits themselves;
 * - `saveState` is `saved` when every local edit has been acknowledged (durably stored on the server), and
 *   `unsynced` otherwise (saving.ts);
 * - presence: `setPresence(state)` and `peers`, over a Loro ephemeral store per connection (presence-session.ts,
 *   docs/protocol/collab.md R17-R19): this client writes its session's key, the server's updates bring everyone
 *   else's.
 *
 * WebSocket is passed in (the browser's global, or `ws` on Node 20, which has no global WebSocket).
 */
import { MindMap } from '@canopy/model';
import type {
  CollabClientEvents,
  CollabClientOptions,
  ConnectionStatus,
  WebSocketLike,
} from './client-options.ts';
import { ClientPresence } from './presence-session.ts';
import {
  CloseCode,
  PROTOCOL_VERSION,
  decodeServer,
  encodeClient,
  type PresencePeer,
  type Role,
  type ServerFrame,
} from './protocol.ts';
import { SaveTracker, type SaveState } from './saving.ts';

export type * from './client-options.ts';
export type { SaveState } from './saving.ts';

/** Close codes after which reconnecting cannot help. */
const FATAL = new Set<number>([CloseCode.forbidden, CloseCode.notFound, CloseCode.unsupportedVersion]);
const OPEN = 1;

export class CollabClient {
  private replica: MindMap | undefined;
  private socket: WebSocketLike | undefined;
  private statusValue: ConnectionStatus = 'offline';
  private roleValue: Role | undefined;
  private sessionValue: number | undefined;
  private nextRef = 1;
  private readonly saving: SaveTracker;
  private readonly presence: ClientPresence;
  private readonly listeners: { [K in keyof CollabClientEvents]: Set<CollabClientEvents[K]> } = {
    load: new Set(),
    status: new Set(),
    save: new Set(),
    presence: new Set(),
    role: new Set(),
    refused: new Set(),
    error: new Set(),
    dropped: new Set(),
  };
  private retries = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private failures401 = 0;
  private unsubscribe: () => void = () => undefined;

  constructor(private readonly options: CollabClientOptions) {
    this.saving = new SaveTracker(Boolean(options.map && options.pendingEdits));
    this.presence = new ClientPresence(
      (frame) => this.send(frame),
      options.presenceRefreshMs ?? 20_000,
      (peers) => this.emit('presence', peers),
    );
    if (options.map) this.adopt(options.map);
  }

  private adopt(map: MindMap): void {
    this.replica = map;
    this.unsubscribe = map.onLocalUpdate((update) => this.onLocalUpdate(update));
    this.emit('load', map);
  }

  /** The replica (undefined until the first welcome when none was given). */
  get map(): MindMap | undefined {
    return this.replica;
  }

  /** Resolves with the replica once it exists. */
  whenLoaded(): Promise<MindMap> {
    if (this.replica) return Promise.resolve(this.replica);
    return new Promise((resolve) => {
      const off = this.on('load', (map) => {
        off();
        resolve(map);
      });
    });
  }

  get status(): ConnectionStatus {
    return this.statusValue;
  }
  get saveState(): SaveState {
    return this.saving.state;
  }
  get role(): Role | undefined {
    return this.roleValue;
  }
  get session(): number | undefined {
    return this.sessionValue;
  }
  get peers(): ReadonlyMap<number, PresencePeer> {
    return this.presence.peers;
  }
  /** Local edits made so far, and how many of them the server has durably stored. */
  get changes(): { local: number; acknowledged: number } {
    return this.saving.changes;
  }

  on<K extends keyof CollabClientEvents>(event: K, listener: CollabClientEvents[K]): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }

  private emit<K extends keyof CollabClientEvents>(
    event: K,
    ...args: Parameters<CollabClientEvents[K]>
  ): void {
    for (const l of this.listeners[event]) (l as (...a: Parameters<CollabClientEvents[K]>) => void)(...args);
  }

  private setStatus(status: ConnectionStatus): void {
    if (status === this.statusValue) return;
    this.statusValue = status;
    this.emit('status', status);
  }

  connect(): void {
    this.stopped = false;
    if (this.socket) return;
    this.open();
  }

  /** Resolves when every local edit made before the call is durably stored (or rejects when closed for good). */
  whenSaved(): Promise<void> {
    const target = this.saving.changes.local;
    const saved = () => this.saving.changes.acknowledged >= target;
    if (saved()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const offSave = this.on('save', () => {
        if (saved()) {
          offSave();
          offStatus();
          resolve();
        }
      });
      const offStatus = this.on('status', (s) => {
        if (s === 'closed') {
          offSave();
          offStatus();
          reject(new Error('the collab client was closed before the edits were saved'));
        }
      });
    });
  }

  /**
   * What this client says about itself (a JSON-like value: name, selection...); null clears it. Sent now when
   * online, else after the next welcome, and again every `presenceRefreshMs` while it stands.
   */
  setPresence(state: unknown): void {
    this.presence.set(state);
  }

  /** Disconnects for good (no reconnect). Unsaved edits stay in the map. */
  close(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.presence.stop();
    this.socket?.close(CloseCode.normal, 'client closed');
    this.socket = undefined;
    this.unsubscribe();
    this.setStatus('closed');
  }

  /** Drops the connection as a network failure would (tests; "work offline"); reconnects unless stopped. */
  disconnect(reconnect = true): void {
    const s = this.socket;
    this.socket = undefined;
    this.saving.dropped();
    this.presence.stop();
    if (s) {
      s.onclose = null;
      s.onmessage = null;
      s.close(CloseCode.normal, 'client went offline');
    }
    this.setStatus('offline');
    if (reconnect) this.scheduleReconnect();
    else this.stopped = true;
  }

  private open(): void {
    this.setStatus('connecting');
    void Promise.resolve()
      .then(() => this.options.url())
      .then(
        (url) => {
          if (this.stopped) return;
          const ws = new this.options.WebSocket(url);
          ws.binaryType = 'arraybuffer';
          this.socket = ws;
          ws.onopen = () => {
            this.setStatus('syncing');
            const vv = this.replica?.versionVector() ?? new Uint8Array();
            ws.send(encodeClient.hello(vv, this.options.protocolVersion ?? PROTOCOL_VERSION));
          };
          ws.onmessage = (event) => this.onFrame(event.data);
          ws.onerror = () => undefined; // onclose follows
          ws.onclose = (event) => this.onClose(ws, event.code, event.reason);
        },
        (err: unknown) => {
          this.emit('error', { code: 'connect_failed', message: String(err) });
          this.scheduleReconnect();
        },
      );
  }

  private onClose(ws: WebSocketLike, code: number, reason: string): void {
    if (this.socket !== ws) return;
    this.socket = undefined;
    this.saving.dropped();
    this.presence.stop();
    if (this.stopped) return this.setStatus('closed');
    if (code === CloseCode.unauthenticated) this.failures401++;
    if (FATAL.has(code) || this.failures401 > 3) {
      this.stopped = true;
      this.emit('error', { code: 'closed', message: reason, closeCode: code });
      return this.setStatus('closed');
    }
    this.emit('dropped', { code, reason });
    this.setStatus('offline');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    const initial = this.options.backoff?.initialMs ?? 250;
    const max = this.options.backoff?.maxMs ?? 10_000;
    const delay = Math.min(max, initial * 2 ** this.retries) * (0.5 + Math.random() / 2);
    this.retries++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped && !this.socket) this.open();
    }, delay);
  }

  private send(frame: Uint8Array): void {
    if (this.socket?.readyState === OPEN) this.socket.send(frame);
  }

  private canWrite(): boolean {
    return this.roleValue === 'editor' || this.roleValue === 'owner';
  }

  private onLocalUpdate(update: Uint8Array): void {
    if (this.saving.edited()) this.emit('save', 'unsynced');
    if (this.statusValue === 'online' && this.canWrite()) this.sendUpdate(update);
    // Otherwise the edit waits in the map and goes out with the next welcome's catch-up.
  }

  private sendUpdate(update: Uint8Array): void {
    const ref = this.nextRef++;
    this.saving.sent(ref);
    this.send(encodeClient.update(ref, update));
  }

  private onFrame(data: unknown): void {
    const bytes =
      data instanceof ArrayBuffer ? new Uint8Array(data) : data instanceof Uint8Array ? data : undefined;
    if (!bytes) return;
    let frame: ServerFrame;
    try {
      frame = decodeServer(bytes);
    } catch {
      return this.socket?.close(CloseCode.policy, 'not a valid server message');
    }
    switch (frame.type) {
      case 'welcome': {
        this.retries = 0;
        this.failures401 = 0;
        this.sessionValue = frame.session;
        this.setRole(frame.role);
        if (!this.replica) {
          const loaded = MindMap.fromSnapshot(frame.updates, this.options.mapOptions);
          if (!loaded.ok) {
            this.stopped = true;
            this.emit('error', { code: loaded.error.code, message: loaded.error.message });
            this.socket?.close(CloseCode.normal, 'cannot load the map');
            return;
          }
          this.adopt(loaded.value);
        } else if (frame.updates.byteLength > 0) this.importRemote(frame.updates);
        this.setStatus('online');
        // Everything the server lacks (R6): this client's unsaved edits, and any update of another member that
        // the server relayed to this editor and then lost (a power loss before its disk sync, R11).
        const map = this.replica;
        if (
          map &&
          this.canWrite() &&
          (this.saving.state === 'unsynced' || map.hasUpdatesBeyond(frame.versionVector))
        ) {
          const missing = map.exportUpdatesSince(frame.versionVector);
          if (missing.ok) this.sendUpdate(missing.value);
        }
        this.presence.start(frame.session);
        return;
      }
      case 'update':
        return this.importRemote(frame.update);
      case 'ack':
        if (this.saving.acked(frame.ref)) this.emit('save', 'saved');
        return;
      case 'refused':
        this.saving.refused(frame.ref);
        return this.emit('refused', frame.problem);
      case 'role':
        return this.setRole(frame.role);
      case 'presence': {
        const problem = this.presence.apply(frame.update);
        if (problem) this.emit('error', problem);
        return;
      }
      case 'error':
        return this.emit('error', frame.problem);
    }
  }

  private setRole(role: Role): void {
    if (role === this.roleValue) return;
    this.roleValue = role;
    this.emit('role', role);
  }

  private importRemote(update: Uint8Array): void {
    const r = this.replica?.importUpdates(update);
    if (r && !r.ok) this.emit('error', { code: r.error.code, message: r.error.message });
  }
}
