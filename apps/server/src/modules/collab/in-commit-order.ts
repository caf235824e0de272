/**
 * What a room does once a commit is durable (acks, the updates for viewers, the ring to other nodes: R10-R12),
 * run in commit order although each commit's durability is a promise of its own: on SQLite the WAL syncs off the
 * event loop while the next commits go ahead (`MapContentStore.commit`), and acks keep their order (R16).
 */
export class InCommitOrder {
  /** Whether every follow-up so far ran: false from the first failure on. Never rejects. */
  private tail: Promise<boolean> = Promise.resolve(true);
  private queued = 0;

  /**
   * `failed` hears the first failure: a commit's durability rejecting (or a follow-up throwing). That
   * commit's follow-up and every later one are skipped (the room closes, R14).
   */
  constructor(private readonly failed: (err: unknown) => void) {}

  /** Runs `then` once `durable` has resolved and every follow-up queued before it has run. */
  after(durable: Promise<void>, then: () => void): void {
    // Handled now: a commit skipped after an earlier failure never awaits its own (Node would crash on it).
    durable.catch(() => undefined);
    const previous = this.tail;
    this.queued++;
    this.tail = (async () => {
      try {
        if (!(await previous)) return false;
        await durable;
        then();
        return true;
      } catch (err) {
        this.failed(err);
        return false;
      } finally {
        this.queued--;
      }
    })();
  }

  /** Settles once every follow-up queued so far has run or been skipped; undefined when none is queued. */
  get pending(): Promise<unknown> | undefined {
    return this.queued > 0 ? this.tail : undefined;
  }
}
