/**
 * A room's imported updates counted in import order, and how many of them are durable (docs/protocol/collab.md
 * R5, R13): a welcome, or the ack of a resend, waits until everything imported before it has been committed.
 */
export class DurableMark {
  private imported = 0;
  private durable = 0;
  private waiters: { upTo: number; resolve: () => void }[] = [];

  /** How many updates have been imported so far. */
  get importedCount(): number {
    return this.imported;
  }

  /** One more update imported: its position, durable once `markDurable` reaches it. */
  next(): number {
    return ++this.imported;
  }

  /** Resolves once the first `upTo` imported updates are durable. */
  whenDurable(upTo: number): Promise<void> {
    if (this.durable >= upTo) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ upTo, resolve }));
  }

  markDurable(upTo: number): void {
    this.durable = Math.max(this.durable, upTo);
    const ready = this.waiters.filter((w) => w.upTo <= this.durable);
    this.waiters = this.waiters.filter((w) => w.upTo > this.durable);
    for (const w of ready) w.resolve();
  }

  /** The room closed: nobody waits any more. */
  releaseAll(): void {
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }
}
