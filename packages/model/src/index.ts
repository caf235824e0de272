export * from './document.ts';
export * from './limits.ts';
export { ModelError, type ModelErrorCode, type ModelResult } from './errors.ts';
export { checkInvariants, type InvariantRule, type InvariantViolation } from './invariants.ts';
export { MindMap, type ChildRange, type NewBoundary, type NewRelationship } from './mind-map.ts';
export { ServerReplica, type UpdateNeeds } from './server-replica.ts';
export { MapMirror } from './map-mirror.ts';
export { loroHeapSize } from './loro-heap.ts';
export {
  MAX_PRESENCE_TIMEOUT_MS,
  PresenceStore,
  readOwnPresenceUpdate,
  type OwnPresenceUpdate,
  type PresenceChange,
} from './presence.ts';
export type {
  ChangeSource,
  ImportSummary,
  MapChange,
  MapChangeListener,
  MindMapOptions,
  PeerId,
} from './map-core.ts';
export type { TopicFields } from './loro-layout.ts';
export type { IdFactory } from './ids.ts';
