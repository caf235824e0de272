/**
 * The state and plumbing behind `MindMap`: the Loro document, id lookup, commits, change events, sync and undo.
 * `MindMap` (mind-map.ts) adds the editing operations on top. Nothing here is exported from the package.
 */
import {
  LoroDoc,
  UndoManager,
  VersionVector,
  type LoroMap,
  type LoroTree,
  type LoroTreeNode,
  type TreeID,
} from 'loro-crdt';
import type { MapDocument, Topic } from './document.ts';
import { ModelError, type ModelResult } from './errors.ts';
import { exportUpdatesFrom } from './doc-io.ts';
import { randomId, type IdFactory } from './ids.ts';
import { KEY_CENTRAL_ID, ROOT_DOCUMENT, configureDoc, topicsTree } from './loro-layout.ts';
import { DocumentView } from './document-view.ts';
import { readSummaryFlag, type Projection } from './projection.ts';
import { UpdateGate, type ImportSummary } from './update-gate.ts';

export type PeerId = bigint | number | `${number}`;

export interface MindMapOptions {
  /** This replica's Loro peer id; unique per editing session (two tabs of one user need two). Random by default. */
  peerId?: PeerId;
  /** Mints topic, relationship, boundary and summary ids; random by default. */
  createId?: IdFactory;
  /** Local operations closer together than this many ms merge into one undo step; 0 (default) never merges. */
  undoMergeIntervalMs?: number;
  /** Undo steps kept; 100 by default. */
  maxUndoSteps?: number;
}

/** Where a change came from: this replica's operations, its undo/redo, or an imported update. */
export type ChangeSource = 'local' | 'undo' | 'redo' | 'remote';
export interface MapChange {
  source: ChangeSource;
}
export type MapChangeListener = (change: MapChange) => void;

export type { ImportSummary };

export class MapCore {
  protected readonly tree: LoroTree;
  protected readonly createId: IdFactory;
  private readonly gate: UpdateGate;
  private undoManager: UndoManager;
  private readonly view: DocumentView;
  /** Topic id to node: exact for local adds; stale after deletes, undo/redo and imports until rebuilt. */
  private readonly nodeIndex = new Map<string, TreeID>();
  private indexFresh = false;
  /** Live topics: exact after local adds; recounted after deletes, undo/redo and imports. */
  private liveTopics: number | undefined;
  private batchDepth = 0;
  private source: ChangeSource | undefined;
  private readonly listeners = new Set<MapChangeListener>();
  /** Loro holds this map's own listener, and through it the map: a cycle the garbage collector cannot see. */
  private readonly unsubscribeDoc: () => void;
  private freed = false;

  protected constructor(
    protected readonly doc: LoroDoc,
    private readonly options: MindMapOptions,
  ) {
    configureDoc(doc);
    this.tree = topicsTree(doc);
    this.createId = options.createId ?? randomId;
    this.gate = new UpdateGate(doc);
    this.view = new DocumentView(doc);
    this.undoManager = this.newUndoManager();
    this.unsubscribeDoc = doc.subscribe((batch) => {
      if (batch.by === 'checkout') return;
      this.view.note(batch);
      if (batch.by === 'import') this.forgetIndex();
      this.emit({ source: batch.by === 'import' ? 'remote' : (this.source ?? 'local') });
    });
  }

  /** Loro requires the peer id before any operation of this replica; a new id starts a fresh undo history. */
  protected static newDoc(peerId: PeerId | undefined): LoroDoc {
    const doc = new LoroDoc();
    if (peerId !== undefined) setPeer(doc, peerId);
    return doc;
  }

  // ---- reading -------------------------------------------------------------------------------------------

  /** The JSON view; the same object until the map changes. Treat it as read-only. */
  toJSON(): MapDocument {
    return this.project().document;
  }

  /** One topic of the JSON view (its subtree included), or undefined if it is not shown. Read-only. */
  topic(id: string): Topic | undefined {
    return this.project().topics.get(id);
  }

  hasTopic(id: string): boolean {
    return this.findNode(id) !== undefined;
  }

  /** Live topics, summary topics included. */
  topicCount(): number {
    this.liveTopics ??= this.project().topicNodes.size;
    return this.liveTopics;
  }

  /**
   * Lets go of the map. Loro holds the listeners a map registers with its document, and through them the map
   * itself, so without this a map is never collected: its document stays in Loro's WebAssembly memory (which
   * never shrinks) for the life of the process. Call it when nothing will use the map again; afterwards the
   * map must not be used. Idempotent.
   */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.unsubscribeDoc();
    this.listeners.clear();
    this.undoManager.free();
    this.gate.free();
    // Until every handle on it is freed Loro keeps the document: the ones held for the map's life now, the
    // short-lived ones when the garbage collector finalises them.
    this.view.free();
    this.tree.free();
    this.doc.free();
  }

  // ---- sync ----------------------------------------------------------------------------------------------

  peerId(): string {
    return this.doc.peerIdStr;
  }

  setPeerId(peerId: PeerId): void {
    this.flush();
    setPeer(this.doc, peerId);
    this.undoManager.free();
    this.undoManager = this.newUndoManager();
  }

  exportSnapshot(): Uint8Array {
    this.flush();
    return this.doc.export({ mode: 'snapshot' });
  }

  /** Everything this replica has that a replica at `versionVector` lacks (everything, without one). */
  exportUpdatesSince(versionVector?: Uint8Array): ModelResult<Uint8Array> {
    this.flush();
    return exportUpdatesFrom(this.doc, versionVector);
  }

  /**
   * Whether this replica holds operations that a replica at `versionVector` lacks (when it is ahead of it, or
   * concurrent with it): what a co-editing client sends back after a reconnect. False when the vector does not
   * decode.
   */
  hasUpdatesBeyond(versionVector: Uint8Array): boolean {
    this.flush();
    let other: VersionVector;
    try {
      other = VersionVector.decode(versionVector);
    } catch {
      return false;
    }
    const mine = this.doc.oplogVersion();
    try {
      const order = mine.compare(other);
      return order === undefined || order > 0;
    } finally {
      mine.free();
      other.free();
    }
  }

  /** The encoded version vector of this replica, for `exportUpdatesSince` on another. */
  versionVector(): Uint8Array {
    this.flush();
    return this.doc.oplogVersion().encode();
  }

  /**
   * Imports an update or snapshot from another replica, if the state it leads to passes validation.
   * Never throws: garbage, oversized and schema-breaking updates come back as errors and change nothing.
   * Duplicates and out-of-order updates are fine: parts missing their dependencies wait inside the map.
   */
  importUpdates(bytes: Uint8Array): ModelResult<ImportSummary> {
    this.flush();
    return this.gate.admit(bytes);
  }

  /** Called with each update this replica produces (operations, undo, migrations), ready to send. */
  onLocalUpdate(listener: (update: Uint8Array) => void): () => void {
    return this.doc.subscribeLocalUpdates(listener);
  }

  /** Called after every committed change, local or remote. Read `toJSON()` inside for the new state. */
  subscribe(listener: MapChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- undo ----------------------------------------------------------------------------------------------

  /** Undoes this replica's last operation; other replicas' work is never undone. Returns whether anything changed. */
  undo(): boolean {
    return this.replay('undo');
  }

  redo(): boolean {
    return this.replay('redo');
  }

  canUndo(): boolean {
    this.flush();
    return this.undoManager.canUndo();
  }

  canRedo(): boolean {
    this.flush();
    return this.undoManager.canRedo();
  }

  /** Runs `operations` as one commit: one update to send, one undo step. Not atomic if an operation throws. */
  batch<T>(operations: () => T): T {
    this.batchDepth++;
    try {
      return operations();
    } finally {
      this.batchDepth--;
      if (this.batchDepth === 0) this.doc.commit();
    }
  }

  // ---- for the operations --------------------------------------------------------------------------------

  /** Ends a local operation: outside a batch it is committed (its events update the view); inside, the view is reread. */
  protected changed(): void {
    if (this.batchDepth === 0) this.doc.commit();
    else this.view.invalidate();
  }

  protected indexTopic(id: string, node: TreeID): void {
    this.nodeIndex.set(id, node);
    if (this.liveTopics !== undefined) this.liveTopics++;
  }

  protected forgetIndex(): void {
    this.indexFresh = false;
    this.liveTopics = undefined;
  }

  protected node(id: string): LoroTreeNode {
    const treeId = this.findNode(id);
    const node = treeId === undefined ? undefined : this.tree.getNodeByID(treeId);
    if (!node) throw new ModelError('topic-not-found', `no topic ${id}`);
    return node;
  }

  protected dataOf(id: string): LoroMap {
    return this.node(id).data;
  }

  /** The central topic's node (as the view picks it). */
  protected centralNode(): TreeID | undefined {
    const named: unknown = this.doc.getMap(ROOT_DOCUMENT).get(KEY_CENTRAL_ID);
    const roots = this.tree.roots();
    return roots.find((node) => node.id === named)?.id ?? roots[0]?.id;
  }

  protected isSummaryNode(node: LoroTreeNode): boolean {
    return node.parent() !== undefined && readSummaryFlag(node.data.get('summary')) !== undefined;
  }

  /**
   * The Loro index that puts a node at `index` among the regular (shown as children or floating) siblings under
   * `parent`, `moving` excluded; undefined (append, which Loro does without listing the siblings) when `index` is
   * undefined or past the end.
   */
  protected loroIndex(
    parent: LoroTreeNode | undefined,
    index: number | undefined,
    moving?: TreeID,
  ): number | undefined {
    if (index === undefined) return undefined;
    const central = parent ? undefined : this.centralNode();
    const siblings = parent ? (parent.children() ?? []) : this.tree.roots();
    let regularSeen = 0;
    let position = 0;
    for (const node of siblings) {
      if (node.id === moving) continue;
      const regular = parent ? readSummaryFlag(node.data.get('summary')) === undefined : node.id !== central;
      if (regular) {
        if (regularSeen >= index) return position;
        regularSeen++;
      }
      position++;
    }
    return undefined;
  }

  protected project(): Projection {
    return this.view.get();
  }

  private findNode(id: string): TreeID | undefined {
    const cached = this.nodeIndex.get(id);
    if (cached !== undefined && (this.indexFresh || this.isLive(cached, id))) return cached;
    if (this.indexFresh) return undefined;
    this.nodeIndex.clear();
    for (const [topicId, node] of this.project().topicNodes) this.nodeIndex.set(topicId, node);
    this.indexFresh = true;
    return this.nodeIndex.get(id);
  }

  private isLive(node: TreeID, id: string): boolean {
    const found = this.tree.getNodeByID(node);
    return found !== undefined && !found.isDeleted() && found.data.get('id') === id;
  }

  private replay(kind: 'undo' | 'redo'): boolean {
    this.flush();
    this.source = kind;
    try {
      return kind === 'undo' ? this.undoManager.undo() : this.undoManager.redo();
    } finally {
      this.source = undefined;
      this.forgetIndex();
    }
  }

  private flush(): void {
    if (this.batchDepth === 0) this.doc.commit();
  }

  private newUndoManager(): UndoManager {
    return new UndoManager(this.doc, {
      mergeInterval: this.options.undoMergeIntervalMs ?? 0,
      maxUndoSteps: this.options.maxUndoSteps ?? 100,
      excludeOriginPrefixes: ['sys:'],
    });
  }

  private emit(change: MapChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        // A listener's bug must not abort the commit or import that notified it; report it out of band.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}

/** Peer ids are unsigned 64-bit integers; Loro reserves the largest. */
function setPeer(doc: LoroDoc, peerId: PeerId): void {
  let peer: bigint | undefined;
  try {
    peer = typeof peerId === 'bigint' ? peerId : BigInt(peerId);
  } catch {
    peer = undefined;
  }
  if (peer === undefined || peer < 0n || peer >= 2n ** 64n - 1n) {
    throw new ModelError(
      'invalid-peer-id',
      `a peer id is an integer from 0 to 2^64 - 2, not ${String(peerId)}`,
    );
  }
  doc.setPeerId(peer);
}
