/**
 * Which log entries a room's replica holds (docs/protocol/collab.md R20, R21): `seq`, the highest log seq it is
 * known to contain with no gap below it, and the room's own entries committed above a gap (another node's
 * entries, or a restore's, lie in between until a catch-up reads them from SQL).
 */
export class LogPosition {
  private applied: number;
  private readonly own = new Set<number>();

  constructor(seq: number) {
    this.applied = seq;
  }

  get seq(): number {
    return this.applied;
  }

  /** No entry of the room's own lies beyond a gap. */
  get contiguous(): boolean {
    return this.own.size === 0;
  }

  /** The replica was loaded again from SQL, as of `seq`. */
  reset(seq: number): void {
    this.applied = seq;
    this.own.clear();
  }

  /** The room committed these entries; false when some lie beyond a gap (the room must catch up). */
  committed(seqs: readonly number[]): boolean {
    for (const s of seqs) this.own.add(s);
    while (this.own.has(this.applied + 1)) {
      this.own.delete(this.applied + 1);
      this.applied++;
    }
    return this.own.size === 0;
  }

  /**
   * An entry a catch-up read (in seq order): true when the replica lacks it (the caller takes it in, then
   * `advance`s); an entry of the room's own moves `seq` past it at once.
   */
  lacks(seq: number): boolean {
    if (seq <= this.applied) return false;
    if (!this.own.delete(seq)) return true;
    this.applied = seq;
    return false;
  }

  advance(seq: number): void {
    this.applied = seq;
  }

  /**
   * A catch-up read everything up to `headSeq`; when it started from a snapshot or found no entries, the replica
   * holds the log up to there. Own entries at or below `seq` are no longer beyond a gap.
   */
  caughtUp(headSeq: number, holdsAll: boolean): void {
    if (holdsAll) this.applied = Math.max(this.applied, headSeq);
    for (const s of [...this.own]) if (s <= this.applied) this.own.delete(s);
  }
}
