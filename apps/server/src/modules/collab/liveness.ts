/**
 * Which other nodes are alive (docs/protocol/collab.md R17): every node says so on the bus every few seconds,
 * and a node not heard from for the timeout is taken for dead, so that its members' presence goes at once
 * rather than when each state expires (R19). A node judges only while it hears its own word: when its own bus
 * is down it hears nobody, and the nodes are no more dead than before (the recovery trades presence again).
 * Only nodes that have said they are alive are judged (a node of an older version never is).
 */
export class NodeLiveness {
  /** When each other node was last heard from (any message), for nodes that say they are alive. */
  private readonly heard = new Map<string, number>();
  private heardSelf: number | undefined;

  constructor(
    readonly self: string,
    private readonly timeoutMs: number,
  ) {}

  /** Any message from `node` at `now`; `alive` when it was the node's own word that it is. */
  hear(node: string, now: number, alive = false): void {
    if (node === this.self) {
      if (alive) this.heardSelf = now;
      return;
    }
    if (alive || this.heard.has(node)) this.heard.set(node, now);
  }

  /** The nodes silent for longer than the timeout (forgotten once returned); none while this node hears nothing. */
  dead(now: number): string[] {
    if (this.heardSelf === undefined || now - this.heardSelf > this.timeoutMs) return [];
    const dead = [...this.heard].filter(([, at]) => now - at > this.timeoutMs).map(([node]) => node);
    for (const node of dead) this.heard.delete(node);
    return dead;
  }
}
