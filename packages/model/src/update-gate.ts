/**
 * Admits remote updates into a map only if the state they lead to is valid (state-validation.ts).
 * The update is first imported into a shadow copy kept in step with the map; only if the shadow's state passes is
 * it imported into the map itself. A refused update leaves the map untouched, and the shadow is rebuilt lazily.
 * Cost: the shadow doubles the document's memory, and each admission validates the whole state (O(topics)).
 */
import type { LoroDoc } from 'loro-crdt';
import { fail, ok, type ModelResult } from './errors.ts';
import { MAX_UPDATE_BYTES } from './limits.ts';
import { validateState } from './state-validation.ts';

export interface ImportSummary {
  /** Part of the update waits for updates it depends on; it applies when they arrive. */
  pending: boolean;
}

export class UpdateGate {
  private shadow: LoroDoc | undefined;

  constructor(private readonly main: LoroDoc) {}

  admit(bytes: unknown): ModelResult<ImportSummary> {
    if (!(bytes instanceof Uint8Array)) return fail('malformed-update', 'an update must be a Uint8Array');
    if (bytes.byteLength > MAX_UPDATE_BYTES) {
      return fail('limit-exceeded', `update of ${bytes.byteLength} bytes exceeds ${MAX_UPDATE_BYTES}`);
    }
    const shadow = this.syncedShadow();
    let pending: boolean;
    try {
      pending = shadow.import(bytes).pending != null;
    } catch (error) {
      this.shadow = undefined;
      return fail('malformed-update', `not a Loro update: ${String(error).slice(0, 200)}`);
    }
    const problems = validateState(shadow);
    if (problems.length > 0) {
      this.shadow = undefined;
      return fail('schema-violation', `update refused: ${problems[0] ?? ''}`, problems);
    }
    this.main.import(bytes);
    return ok({ pending });
  }

  private syncedShadow(): LoroDoc {
    if (!this.shadow) {
      this.shadow = this.main.fork();
      const pending = this.main.exportPendingUpdates();
      if (pending) this.shadow.import(pending);
      return this.shadow;
    }
    const since = this.shadow.oplogVersion();
    if (this.main.oplogVersion().compare(since) !== 0) {
      this.shadow.import(this.main.export({ mode: 'update', from: since }));
    }
    return this.shadow;
  }
}
