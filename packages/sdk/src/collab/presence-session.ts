/**
 * The co-editing client's presence (docs/protocol/collab.md R17-R19): what this client says about itself, and
 * everyone else's, over a fresh Loro ephemeral store per connection. The server's updates (everyone's states
 * right after the welcome, then each change) go into the store; this client's own key goes out of it, and again
 * every `refreshMs` while it stands, so that the server does not expire it.
 */
import { MAX_PRESENCE_TIMEOUT_MS, PresenceStore } from '@canopy/model';
import { encodeClient, presenceKey, presencePeerFrom, type PresencePeer, type Problem } from './protocol.ts';

interface Session {
  store: PresenceStore;
  key: string;
  stop: () => void;
}

export class ClientPresence {
  private state: unknown = null;
  /** This connection's store (from its welcome to its close), and what listens to it. */
  private session: Session | undefined;
  private peerMap = new Map<number, PresencePeer>();

  constructor(
    private readonly send: (frame: Uint8Array) => void,
    private readonly refreshMs: number,
    /** Everyone else's presence changed. */
    private readonly changed: (peers: ReadonlyMap<number, PresencePeer>) => void,
  ) {}

  get peers(): ReadonlyMap<number, PresencePeer> {
    return this.peerMap;
  }

  /** This client's state (null clears it): sent now when connected, else when the next connection starts. */
  set(state: unknown): void {
    this.state = state ?? null;
    if (this.session) this.write(this.session);
  }

  /** A connection was welcomed as `session`. */
  start(session: number): void {
    this.stop();
    // The server expires stale states and tells everyone (R19); here entries never expire, so that a clock
    // running ahead of the server's does not make its entries look stale on arrival.
    const store = new PresenceStore(MAX_PRESENCE_TIMEOUT_MS);
    const offLocal = store.onLocalUpdate((update) => this.send(encodeClient.presence(update)));
    const refresh = setInterval(() => {
      if (this.state !== null && this.session?.store === store) this.write(this.session);
    }, this.refreshMs);
    (refresh as { unref?: () => void }).unref?.();
    const started: Session = {
      store,
      key: presenceKey(session),
      stop: () => {
        clearInterval(refresh);
        offLocal();
        store.destroy();
      },
    };
    this.session = started;
    if (this.state !== null) this.write(started);
    this.read(started);
  }

  /** The connection ended: its store goes, and with it everyone else's presence. */
  stop(): void {
    this.session?.stop();
    this.session = undefined;
    this.peerMap = new Map();
  }

  /** A presence update from the server; the problem when it does not apply. */
  apply(update: Uint8Array): Problem | undefined {
    const session = this.session;
    if (!session) return undefined;
    const applied = session.store.apply(update);
    if (!applied.ok) return { code: applied.error.code, message: applied.error.message };
    this.read(session);
    return undefined;
  }

  private write(session: Session): void {
    if (this.state === null) session.store.delete(session.key);
    else session.store.set(session.key, this.state);
  }

  private read(session: Session): void {
    const peers = new Map<number, PresencePeer>();
    for (const [key, value] of Object.entries(session.store.states())) {
      const peer = key === session.key ? undefined : presencePeerFrom(key, value);
      if (peer) peers.set(peer.session, peer);
    }
    this.peerMap = peers;
    this.changed(peers);
  }
}
