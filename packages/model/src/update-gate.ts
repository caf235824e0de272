/**
 * Admits remote updates into a map only if the state they lead to is valid (state-validation.ts).
 * The update is first imported into a shadow copy kept in step with the map; only if the shadow's state passes is
 * it imported into the map itself. A refused update leaves the map untouched; the shadow is then rebuilt lazily.
 *
 * Only what the import changed is checked (the shadow's events say what), so admitting a keystroke costs little
 * however large the map. The shadow doubles the document's memory.
 */
import type { ImportStatus, LoroDoc, LoroEventBatch, TreeID } from 'loro-crdt';
import { fail, ok, type ModelResult } from './errors.ts';
import { MAX_UPDATE_BYTES } from './limits.ts';
import {
  ROOT_DOCUMENT,
  ROOT_META,
  ROOT_RELATIONSHIPS,
  ROOT_TITLE,
  ROOT_TOPICS,
  TEXT_KEYS,
  countLiveTopics,
  topicsTree,
  type TextKey,
} from './loro-layout.ts';
import { expectedRootId, validateState, type ChangeScope } from './state-validation.ts';

export interface ImportSummary {
  /** Part of the update waits for updates it depends on; it applies when they arrive. */
  pending: boolean;
  /** The update brought operations this replica did not have (false for a duplicate). */
  added: boolean;
}

export class UpdateGate {
  private shadow: LoroDoc | undefined;
  private topicBound = 0;
  private scope: ChangeScope | undefined;

  constructor(private readonly main: LoroDoc) {}

  /** Lets go of the shadow copy (`MindMap.free`; a refusal, after which it is made again when needed). */
  free(): void {
    this.shadow?.free();
    this.shadow = undefined;
  }

  admit(bytes: unknown): ModelResult<ImportSummary> {
    if (!(bytes instanceof Uint8Array)) return fail('malformed-update', 'an update must be a Uint8Array');
    if (bytes.byteLength > MAX_UPDATE_BYTES) {
      return fail('limit-exceeded', `update of ${bytes.byteLength} bytes exceeds ${MAX_UPDATE_BYTES}`);
    }
    const shadow = this.syncedShadow();
    const scope = this.newScope();
    this.scope = scope;
    let status: ImportStatus;
    try {
      status = shadow.import(bytes);
    } catch (error) {
      // Dropped, and freed: Loro holds its listener, and through it this gate (the map): never collected.
      this.free();
      return fail('malformed-update', `not a Loro update: ${String(error).slice(0, 200)}`);
    } finally {
      this.scope = undefined;
    }
    const problems = validateState(shadow, scope);
    if (problems.length > 0) {
      this.free();
      return fail('schema-violation', `update refused: ${problems[0] ?? ''}`, problems);
    }
    this.topicBound = scope.topicBound;
    this.main.import(bytes);
    return ok(summaryOf(status));
  }

  private syncedShadow(): LoroDoc {
    if (!this.shadow) {
      const shadow = this.main.fork();
      const pending = this.main.exportPendingUpdates();
      if (pending) shadow.import(pending);
      shadow.subscribe((batch) => this.collect(batch));
      this.topicBound = countLiveTopics(topicsTree(shadow));
      this.shadow = shadow;
      return shadow;
    }
    const since = this.shadow.oplogVersion();
    if (this.main.oplogVersion().compare(since) !== 0) {
      // This replica's own operations: valid by construction, but the topics they add count towards the cap.
      const scope = this.newScope();
      this.scope = scope;
      try {
        this.shadow.import(this.main.export({ mode: 'update', from: since }));
      } finally {
        this.scope = undefined;
      }
      this.topicBound = scope.topicBound;
    }
    return this.shadow;
  }

  private newScope(): ChangeScope {
    return newScope(this.topicBound);
  }

  private collect(batch: LoroEventBatch): void {
    if (this.scope) collectScope(this.scope, batch);
  }
}

export function summaryOf(status: ImportStatus): ImportSummary {
  const pending = status.pending != null;
  return { pending, added: pending || status.success.size > 0 };
}

export function newScope(topicBound: number): ChangeScope {
  return {
    placed: new Set(),
    edited: new Set(),
    texts: new Map(),
    relationships: new Set(),
    mapLevel: false,
    structure: false,
    foreignRoots: new Set(),
    topicBound,
  };
}

/** Adds what an import's events touched to `scope` (validateState then checks only that). */
export function collectScope(scope: ChangeScope, batch: LoroEventBatch): void {
  for (const event of batch.events) {
    const [root, key] = event.path;
    const name = String(root);
    if (
      expectedRootId(name) === undefined ||
      (event.path.length === 1 && event.target !== expectedRootId(name))
    ) {
      scope.foreignRoots.add(name);
      continue;
    }
    if (root === ROOT_DOCUMENT) {
      scope.structure = true;
    } else if (root === ROOT_TOPICS) {
      if (event.diff.type === 'tree') {
        scope.structure = true;
        for (const item of event.diff.diff) {
          if (item.action === 'delete') continue;
          scope.placed.add(item.target);
          if (item.action === 'create') scope.topicBound++;
        }
      } else if (isTextEdit(event)) {
        const id = key as TreeID;
        const keys = scope.texts.get(id);
        if (keys) keys.add(event.path[2] as TextKey);
        else scope.texts.set(id, new Set([event.path[2] as TextKey]));
      } else if (typeof key === 'string') {
        scope.edited.add(key as TreeID);
      }
    } else if (root === ROOT_RELATIONSHIPS) {
      if (typeof key === 'string') scope.relationships.add(key);
      else if (event.diff.type === 'map')
        for (const id of Object.keys(event.diff.updated)) scope.relationships.add(id);
    } else if (root === ROOT_TITLE || root === ROOT_META) {
      scope.mapLevel = true;
    }
  }
}

/** An edit of the content of a topic's text field: `topics/<node>/<text key>`, a text diff. */
function isTextEdit(event: LoroEventBatch['events'][number]): boolean {
  const [, node, field] = event.path;
  return (
    event.path.length === 3 &&
    event.diff.type === 'text' &&
    typeof node === 'string' &&
    (TEXT_KEYS as readonly unknown[]).includes(field)
  );
}
