/**
 * The write-back hook: how a map that lives elsewhere (a 3rd-party storage file, the storage module) gets the
 * room's content back. Called with a consistent snapshot: every update in it is durable, none is half-applied.
 */
import type { MapDocument } from '@canopy/model';

export interface WriteBackEvent {
  tenantId: string;
  mapId: string;
  /** `saved`: someone asked to save the session; `last-editor-left`: the room lost its last writer here. */
  reason: 'saved' | 'last-editor-left';
  /** Loro snapshot of the map at `seq`. */
  snapshot: Uint8Array;
  document: MapDocument;
  /** The log seq the snapshot reflects. */
  seq: number;
}

export type WriteBackHook = (event: WriteBackEvent) => Promise<void>;
