/**
 * How an update gets into a room's replica (docs/protocol/collab.md R9). Typing is admitted at once, from its
 * operations, and handed to the mirror's checker; any other update waits for the checker's verdict on the
 * state it leads to (the room admits nothing else meanwhile: `Arrivals`). A replica without a mirror, or whose
 * mirror thread is gone, checks on its own state.
 */
import { ModelError, type ImportSummary, type ModelResult, type ServerReplica } from '@canopy/model';
import type { MirrorLink } from './mirrors.ts';

export type Admission = ModelResult<ImportSummary>;

/**
 * Admits `data` into `replica`: at once, or (a promise) once the mirror has checked it. `mirrorGone` is called
 * when the mirror could not answer: the replica checks on its own state from then on, the mirror is off.
 */
export function admitUpdate(
  replica: ServerReplica,
  mirror: MirrorLink,
  data: Uint8Array,
  mirrorGone: () => void,
): Admission | Promise<Admission> {
  if (!replica.defers) return replica.importUpdateBatch([data])[0]!;
  const admitted = replica.admitDeferred(data);
  if (!('ok' in admitted)) return checked(replica, mirror, admitted, mirrorGone);
  if (admitted.ok && admitted.value.added) mirror.admit([data]);
  return admitted;
}

async function checked(
  replica: ServerReplica,
  mirror: MirrorLink,
  check: Exclude<ReturnType<ServerReplica['admitDeferred']>, Admission>,
  mirrorGone: () => void,
): Promise<Admission> {
  const verdict = await mirror.check(check.bytes);
  if (!verdict) {
    replica.reject(check);
    mirror.disable();
    replica.stopDeferring();
    mirrorGone();
    return replica.importUpdateBatch([check.bytes])[0]!;
  }
  if (!verdict.ok) {
    replica.reject(check);
    return { ok: false, error: new ModelError(verdict.code, verdict.message, verdict.problems) };
  }
  return replica.confirm(check, verdict.texts);
}
