import { MindMap } from '@canopy/model';
import {
  CloseCode,
  CollabClient,
  type ConnectionStatus,
  type Role,
  type SaveState,
  type WebSocketConstructor,
} from '@canopy/sdk';
import { ApiError } from '../../api/problem.ts';
import { COLLAB_UNDO_STEPS, CollabEditorStore } from '../store/collabEditorStore.ts';
import type { LocalCopy, LocalCopyStore } from './localCopies.ts';
import { LocalCopyWriter } from './localCopyWriter.ts';
import {
  collaboratorFrom,
  distinctColors,
  presenceState,
  throttleLatest,
  type Collaborator,
} from './presence.ts';

/**
 * One open map in the browser: the CollabClient (socket, reconnects, offline queue), the editor store over its
 * replica, and the state the page shows (indicator, role, refusals, who is here), as an external store for
 * React's useSyncExternalStore. This module pulls in the model and so Loro's WebAssembly: the editor page
 * imports it lazily, so that the other pages never load it.
 */

/** Why the map cannot be opened or edited any further; `signedOut` asks the person to sign in again. */
export type Refusal = 'forbidden' | 'notFound' | 'signedOut' | 'failed';

export interface CollabView {
  /** The editor store, once the first welcome has brought the map. */
  readonly store: CollabEditorStore | undefined;
  readonly indicator: 'saved' | 'syncing' | 'offline';
  readonly role: Role | undefined;
  readonly refusal: { readonly reason: Refusal; readonly message: string } | undefined;
  readonly collaborators: readonly Collaborator[];
  /** The server refused an edit of ours (it stays in this tab, unsaved): the code, for the message. */
  readonly refusedEdit: string | undefined;
  /** The map was opened from this browser's copy holding edits the server had not stored; true until it has. */
  readonly restoredUnsent: boolean;
  /** This browser refused to keep a copy of the map (offline edits then live only in this tab). */
  readonly localCopyProblem: string | undefined;
  /**
   * Why this tab is offline though the network is up, while it keeps trying: the account has too many maps open
   * (in other tabs, windows or devices: R32).
   */
  readonly offlineReason: 'tooManyConnections' | undefined;
}

export interface CollabSessionOptions {
  readonly mapId: string;
  /** A fresh ticket for every (re)connect; rejects with ApiError when the server refuses. */
  readonly ticket: (mapId: string) => Promise<{ url: string }>;
  /** The name shown to the others. */
  readonly name: string;
  /** This person's account (their own colour is kept free so that the others' colours match every screen). */
  readonly accountId: string;
  /** The page's origin, e.g. `https://canopy.example`; the socket goes to the same host over ws/wss. */
  readonly origin: string;
  /** The browser's by default. */
  readonly WebSocket?: WebSocketConstructor;
  /** This browser's copies of maps (localCopies.ts); without it, nothing outlives the tab. */
  readonly localCopies?: LocalCopyStore;
  /** The copy read from `localCopies` before opening: the replica starts from it, unsent edits included. */
  readonly restored?: LocalCopy;
}

/** Selection changes go out at most this often (arrow-key repeat would otherwise flood the room). */
const SELECTION_INTERVAL_MS = 80;

export class CollabSession {
  private readonly client: CollabClient;
  private view: CollabView = {
    store: undefined,
    indicator: 'syncing',
    role: undefined,
    refusal: undefined,
    collaborators: [],
    refusedEdit: undefined,
    restoredUnsent: false,
    localCopyProblem: undefined,
    offlineReason: undefined,
  };
  private readonly listeners = new Set<() => void>();
  private selection: string | null = null;
  private readonly sendSelection: (selection: string | null) => void;
  private readonly copyWriter: LocalCopyWriter | undefined;
  private unsubscribeMap: () => void = () => undefined;
  /** Until the first welcome, the role stored with the local copy decides whether the person may edit. */
  private readonly restoredRole: Role | undefined;
  private welcomed = false;
  private connectFailed = false;

  constructor(private readonly options: CollabSessionOptions) {
    const restored = options.restored && restoredMap(options.restored);
    this.restoredRole = restored ? options.restored?.role : undefined;
    this.client = new CollabClient({
      ...(restored ? { map: restored, pendingEdits: options.restored?.pending ?? false } : {}),
      url: () => this.socketUrl(),
      // The DOM's handler types take Event where the SDK's portable interface says unknown; same object.
      WebSocket: options.WebSocket ?? (globalThis.WebSocket as unknown as WebSocketConstructor),
      mapOptions: { maxUndoSteps: COLLAB_UNDO_STEPS },
    });
    this.sendSelection = throttleLatest(SELECTION_INTERVAL_MS, (selection) =>
      this.client.setPresence(presenceState(this.options.name, selection)),
    );
    const localCopies = options.localCopies;
    this.copyWriter =
      localCopies &&
      new LocalCopyWriter({
        store: localCopies,
        accountId: options.accountId,
        mapId: options.mapId,
        storedPending: restored !== undefined && (options.restored?.pending ?? false),
        // Opened from the copy: this session carries its edits on, so it may replace it like its writer.
        writer: (restored && options.restored?.writer) || randomWriterId(),
        source: {
          snapshot: () => this.client.map?.exportSnapshot() ?? new Uint8Array(),
          pending: () => this.client.saveState === 'unsynced',
          role: () => this.client.role ?? this.restoredRole,
        },
        onProblem: (message) => {
          if (message !== this.view.localCopyProblem) this.update({ localCopyProblem: message });
        },
      });
    this.client.on('load', (map) => this.loaded(map));
    // A restored replica is adopted inside the client's constructor, before anyone could listen.
    if (this.client.map) this.loaded(this.client.map, options.restored?.pending ?? false);
    this.client.on('status', (status) => {
      if (status === 'online') {
        this.welcomed = true;
        this.connectFailed = false;
      }
      this.update({
        indicator: this.indicator(),
        ...(status === 'online' ? { offlineReason: undefined } : {}),
      });
    });
    this.client.on('dropped', ({ code }) =>
      this.update({
        offlineReason: code === CloseCode.tooManyConnections ? 'tooManyConnections' : undefined,
      }),
    );
    this.client.on('save', (state) => {
      if (state === 'saved') this.copyWriter?.saved();
      this.update({
        indicator: this.indicator(),
        ...(state === 'saved' ? { restoredUnsent: false } : {}),
      });
    });
    this.client.on('role', (role) => {
      this.view.store?.setReadOnly(role === 'viewer');
      this.update({ role });
    });
    this.client.on('presence', (peers) => {
      const present = [...peers.values()]
        .map(collaboratorFrom)
        .filter((c): c is Collaborator => c !== undefined)
        .sort((a, b) => a.session - b.session);
      const session = this.client.session;
      const self = session === undefined ? undefined : { session, accountId: this.options.accountId };
      this.update({ collaborators: distinctColors(present, self) });
    });
    this.client.on('refused', (problem) => this.update({ refusedEdit: problem.code }));
    this.client.on('error', (problem) => {
      if (problem.code === 'connect_failed' && !this.connectFailed) {
        this.connectFailed = true;
        this.update({ indicator: this.indicator() });
      }
      if (problem.closeCode === CloseCode.forbidden) this.refuse('forbidden', problem.message);
      else if (problem.closeCode === CloseCode.notFound) this.refuse('notFound', problem.message);
      else if (problem.closeCode === CloseCode.unauthenticated) this.refuse('signedOut', problem.message);
      else if (problem.closeCode !== undefined) this.refuse('failed', problem.message);
    });
    // The network may go away without the socket noticing for a long time (no packets, no close): trust the
    // browser's own signal, drop the socket now and let the client reconnect (with backoff) once it can.
    window.addEventListener('offline', this.onBrowserOffline);
    window.addEventListener('online', this.onBrowserOnline);
    if (this.copyWriter) {
      window.addEventListener('pagehide', this.onPageHide);
      document.addEventListener('visibilitychange', this.onVisibilityChange);
    }
  }

  private loaded(map: MindMap, restoredUnsent = false): void {
    const store = new CollabEditorStore(map);
    store.setReadOnly(!this.canWrite());
    const writer = this.copyWriter;
    if (writer) {
      this.unsubscribeMap = map.subscribe((change) => {
        if (change.source === 'local') writer.localChange();
        else writer.remoteChange();
      });
      // A map opened from the server alone gets its first copy soon, so that an offline reload finds it.
      if (!this.options.restored) writer.remoteChange();
    }
    this.update({ store, restoredUnsent, role: this.client.role ?? this.restoredRole });
  }

  getView = (): CollabView => this.view;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  connect(): void {
    this.client.connect();
  }

  /** Own selection, for the others' rings; throttled, and repeated after every reconnect by the client. */
  setSelection(topicId: string | null): void {
    if (topicId === this.selection) return;
    this.selection = topicId;
    this.sendSelection(topicId);
  }

  /** Announces who this is before anything is selected, so the others' header lists them at once. */
  announce(): void {
    this.client.setPresence(presenceState(this.options.name, this.selection));
  }

  close(): void {
    window.removeEventListener('offline', this.onBrowserOffline);
    window.removeEventListener('online', this.onBrowserOnline);
    window.removeEventListener('pagehide', this.onPageHide);
    document.removeEventListener('visibilitychange', this.onVisibilityChange);
    // Leaving the map within the app: what changed since the last write is kept before letting go (the write
    // reads the map now; one already under way makes none after it, the writer being disposed).
    void this.copyWriter?.flush();
    this.copyWriter?.dispose();
    this.unsubscribeMap();
    const map = this.client.map;
    this.client.close();
    this.view.store?.dispose();
    this.listeners.clear();
    // Nothing reads the map from here on (the store answers from its last snapshot once disposed): its memory
    // goes back to Loro, which otherwise keeps every map opened in this tab until it reloads (MindMap.free).
    map?.free();
  }

  /** For tests and "work offline": drop the socket as a network failure would. */
  goOffline(): void {
    this.client.disconnect();
  }

  private readonly onBrowserOffline = () => {
    if (this.client.status !== 'closed') this.client.disconnect();
  };

  // The debounced writes are the guarantee; these catch the last second before a reload, a close or a tab
  // switch (a write started while the page unloads usually completes, but the browser does not promise it).
  private readonly onPageHide = () => void this.copyWriter?.flush();
  private readonly onVisibilityChange = () => {
    if (document.visibilityState === 'hidden') void this.copyWriter?.flush();
  };

  private readonly onBrowserOnline = () => {
    if (this.client.status === 'offline') this.client.connect();
  };

  private async socketUrl(): Promise<string> {
    try {
      const { url } = await this.options.ticket(this.options.mapId);
      const origin = new URL(this.options.origin);
      origin.protocol = origin.protocol === 'https:' ? 'wss:' : 'ws:';
      return new URL(url, origin).href;
    } catch (error) {
      if (error instanceof ApiError && [401, 403, 404].includes(error.status)) {
        const reason = error.status === 401 ? 'signedOut' : error.status === 403 ? 'forbidden' : 'notFound';
        this.refuse(reason, error.message);
        this.client.close();
      }
      throw error;
    }
  }

  private canWrite(): boolean {
    const role = this.client.role ?? this.restoredRole;
    return role === 'editor' || role === 'owner';
  }

  private indicator(): CollabView['indicator'] {
    const status: ConnectionStatus = this.client.status;
    const save: SaveState = this.client.saveState;
    if (status === 'online') return save === 'saved' ? 'saved' : 'syncing';
    if (status === 'syncing') return 'syncing';
    // Opening from the local copy: connecting for the first time is not being offline, unless it failed.
    if (status === 'connecting' && !this.welcomed && !this.connectFailed) return 'syncing';
    // Before the first welcome the page says "Opening the map…"; after it, no socket means offline.
    return this.view.store ? 'offline' : 'syncing';
  }

  private refuse(reason: Refusal, detail: string): void {
    if (this.view.refusal) return;
    this.view.store?.setReadOnly(true);
    // A deleted map's copy (and any edits in it) can never be sent: it would only hold space.
    if (reason === 'notFound') this.forgetLocalCopy();
    this.update({ refusal: { reason, message: refusalMessage(reason, detail) } });
  }

  private forgetLocalCopy(): void {
    this.copyWriter?.dispose();
    this.options.localCopies?.remove(this.options.accountId, this.options.mapId).catch(() => undefined);
  }

  private update(patch: Partial<CollabView>): void {
    this.view = { ...this.view, ...patch };
    for (const listener of [...this.listeners]) listener();
  }
}

function randomWriterId(): string {
  return globalThis.crypto.randomUUID();
}

/** The replica from a stored copy, or undefined if the copy does not load (then the server's map is used). */
function restoredMap(copy: LocalCopy): MindMap | undefined {
  const loaded = MindMap.fromSnapshot(copy.snapshot, { maxUndoSteps: COLLAB_UNDO_STEPS });
  return loaded.ok ? loaded.value : undefined;
}

function refusalMessage(reason: Refusal, detail: string): string {
  switch (reason) {
    case 'forbidden':
      return 'This map is not shared with you (or no longer is). Ask its owner to share it with you.';
    case 'notFound':
      return 'This map does not exist, or it was deleted.';
    case 'signedOut':
      return 'Your session has ended. Sign in again to keep editing.';
    case 'failed':
      return `The map cannot be opened: ${detail || 'the server closed the connection'}.`;
  }
}
