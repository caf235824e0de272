/**
 * The typing check of `ServerReplica` (server-replica.ts, docs/protocol/collab.md R9): what it knows of a checked
 * text, and how one typing operation, as Loro's JSON shows it, changes that text's lengths.
 */
import type { ContainerID, Frontiers, LoroEventBatch, OpId, PeerID } from 'loro-crdt';
import { MAX_NOTES_LENGTH, MAX_TEXT_LENGTH, MAX_TITLE_LENGTH } from './limits.ts';
import { ROOT_TITLE, ROOT_TOPICS, TEXT_KEYS } from './loro-layout.ts';

/**
 * A text checked on the state, as of the log's latest version: its length in code points (exact: Loro's
 * operations count positions in them) and an upper bound of its length in UTF-16 units (what the limit counts).
 */
export interface CheckedText {
  limit: number;
  points: number;
  units: number;
  /**
   * The last change known to have changed the text (or, after a check, the log's latest version then): typing
   * that does not follow the latest version is admitted only if it builds on this, so the text it saw is the
   * text as it stands.
   */
  changedAt: OpId[];
  /** The replica's step (its count of imports that added to the log) by which `changedAt` was in the log. */
  changedStep: number;
}

/** A typing operation as Loro's JSON shows it: an insert at `pos`, or `len` code points deleted at `pos`. */
interface TextOpContent {
  type: string;
  pos?: unknown;
  text?: unknown;
  len?: unknown;
}

/** The texts whose content an event batch changed, with their limits: topics' text fields and the title. */
export function collectTexts(into: { id: ContainerID; limit: number }[], batch: LoroEventBatch): void {
  for (const event of batch.events) {
    if (event.diff.type !== 'text') continue;
    const [root, node, key] = event.path;
    if (root === ROOT_TITLE && event.path.length === 1)
      into.push({ id: event.target, limit: MAX_TITLE_LENGTH });
    else if (root === ROOT_TOPICS && event.path.length === 3 && typeof node === 'string') {
      if (key === TEXT_KEYS[0]) into.push({ id: event.target, limit: MAX_TEXT_LENGTH });
      else if (key === TEXT_KEYS[1]) into.push({ id: event.target, limit: MAX_NOTES_LENGTH });
    }
  }
}

/**
 * Applies one typing operation to a text's lengths (`length`, changed in place); false when it is not an
 * insert or deletion, falls outside the text, or takes it past `limit`.
 */
export function typedInto(
  length: { points: number; units: number },
  limit: number,
  op: TextOpContent,
): boolean {
  const { type, pos, text: inserted, len } = op;
  if (!Number.isInteger(pos)) return false;
  const at = pos as number;
  if (type === 'insert' && typeof inserted === 'string' && inserted !== '') {
    if (at < 0 || at > length.points) return false;
    length.points += codePoints(inserted);
    length.units += inserted.length;
    return length.units <= limit;
  }
  if (type === 'delete' && Number.isInteger(len) && len !== 0) {
    // A negative length deletes backwards from `pos` (backspaces merged into one operation).
    const count = Math.abs(len as number);
    const start = (len as number) > 0 ? at : at - count + 1;
    if (start < 0 || start + count > length.points) return false;
    length.points -= count;
    // Each code point is one or two units: the bound stays a bound.
    length.units = Math.max(length.points, length.units - count);
    return true;
  }
  return false;
}

/** Loro's JSON op ids (`counter@peer`) as `OpId`s. */
export function opIds(ids: readonly string[]): OpId[] {
  return ids.map((id) => {
    const at = id.indexOf('@');
    return { peer: id.slice(at + 1) as PeerID, counter: Number(id.slice(0, at)) };
  });
}

/**
 * How many of the log's latest versions `VersionSteps` remembers: a quarter of a second at the load
 * (250 edits/s), ~5 KB; a change from a client further behind is checked by walking the history.
 */
const KNOWN_VERSIONS = 64;

/**
 * The step (a replica's count of imports that added to its log) at which each of the log's latest versions was
 * its latest. A client hears the log in its order, so its next change depends on one of these (or on its own
 * last change): what the log held at that step, it saw.
 */
export class VersionSteps {
  private readonly steps = new Map<string, number>();

  clear(): void {
    this.steps.clear();
  }

  /** `frontiers` is the log's latest version as of `step`; the oldest version known is forgotten. */
  note(frontiers: Frontiers, step: number): void {
    this.steps.set(versionKey(frontiers.map(({ peer, counter }) => `${counter}@${peer}`)), step);
    if (this.steps.size > KNOWN_VERSIONS) this.steps.delete(this.steps.keys().next().value!);
  }

  /** The step of the version made of these op ids (`counter@peer`, as a change's `deps`), if known. */
  of(ids: readonly string[]): number | undefined {
    return this.steps.get(versionKey(ids));
  }
}

/** A version as a key: its op ids, sorted. */
function versionKey(ids: readonly string[]): string {
  return ids.length === 1 ? ids[0]! : [...ids].sort().join(',');
}

/** Whether a change's dependencies are exactly `frontiers` (it follows that version and nothing else). */
export function followsExactly(deps: readonly string[], frontiers: Frontiers): boolean {
  if (deps.length !== frontiers.length) return false;
  return frontiers.every(({ peer, counter }) => deps.includes(`${counter}@${peer}`));
}

/** Length in Unicode code points, the unit of Loro's text positions. */
export function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}
