/** What every holder of a Loro document does the same way: accept loaded bytes, and export for a peer. */
import { VersionVector, type LoroDoc } from 'loro-crdt';
import { fail, ok, type ModelResult } from './errors.ts';
import { migrateToCurrent } from './migrations.ts';
import { validateState } from './state-validation.ts';

/** A document just loaded from bytes, brought to the current schema and then validated whole. */
export function acceptLoadedDoc(doc: LoroDoc): ReturnType<typeof migrateToCurrent> {
  const migrated = migrateToCurrent(doc);
  if (!migrated.ok) return migrated;
  const problems = validateState(doc);
  if (problems.length > 0)
    return fail('schema-violation', `invalid snapshot: ${problems[0] ?? ''}`, problems);
  return migrated;
}

/** Everything `doc` has that a replica at `versionVector` lacks (everything, without one). */
export function exportUpdatesFrom(doc: LoroDoc, versionVector?: Uint8Array): ModelResult<Uint8Array> {
  if (versionVector === undefined) return ok(doc.export({ mode: 'update' }));
  let from: VersionVector;
  try {
    from = VersionVector.decode(versionVector);
  } catch (error) {
    return fail('invalid-version-vector', `not an encoded version vector: ${String(error).slice(0, 200)}`);
  }
  return ok(doc.export({ mode: 'update', from }));
}
