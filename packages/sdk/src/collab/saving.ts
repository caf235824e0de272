/**
 * What the co-editing client knows about saving: how many local edits there are, and how many of them the
 * server has durably stored (each ack covers every local edit made before its update went out, R10).
 */
export type SaveState = 'saved' | 'unsynced';

export class SaveTracker {
  /** ref -> the local edit count its update carries. */
  private readonly inFlight = new Map<number, number>();
  private local = 0;
  private acknowledged = 0;

  /**
   * `pendingEdits`: the replica holds edits the server may lack (made offline before a reload), counted as one
   * local edit so that the next welcome sends what the server lacks and its ack settles it.
   */
  constructor(pendingEdits: boolean) {
    if (pendingEdits) this.local = 1;
  }

  get state(): SaveState {
    return this.acknowledged >= this.local ? 'saved' : 'unsynced';
  }

  /** Local edits made so far, and how many of them the server has durably stored. */
  get changes(): { local: number; acknowledged: number } {
    return { local: this.local, acknowledged: this.acknowledged };
  }

  /** A local edit was made; true when it turned a saved state unsynced. */
  edited(): boolean {
    this.local++;
    return this.local === this.acknowledged + 1;
  }

  /** An update carrying every local edit made so far went out under `ref`. */
  sent(ref: number): void {
    this.inFlight.set(ref, this.local);
  }

  /** The server stored the update sent under `ref`; true when that made every local edit saved. */
  acked(ref: number): boolean {
    const covers = this.inFlight.get(ref);
    this.inFlight.delete(ref);
    if (covers === undefined || covers <= this.acknowledged) return false;
    this.acknowledged = covers;
    return this.acknowledged >= this.local;
  }

  /** The server refused the update sent under `ref`: its edits stay local and unsynced. */
  refused(ref: number): void {
    this.inFlight.delete(ref);
  }

  /** The connection dropped: what was in flight goes out again with the next welcome's catch-up. */
  dropped(): void {
    this.inFlight.clear();
  }
}
