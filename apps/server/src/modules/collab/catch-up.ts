/**
 * A room's catch-up (docs/protocol/collab.md R20, R21): reads from SQL what its replica lacks (entries another
 * node appended, or a restore's snapshot) and hands each to the room, which takes it in and passes it on to its
 * members. Calls made while one runs coalesce into one more pass.
 */
import type { Logger } from 'pino';
import type { LogTail } from '../maps/index.ts';
import type { LogPosition } from './log-position.ts';

export interface CatchUpRoom {
  readonly mapId: string;
  readonly position: LogPosition;
  isClosed(): boolean;
  /** The log after `seq`; undefined when the map is gone. */
  readAfter(seq: number): Promise<LogTail | undefined>;
  /** A durable update from elsewhere: into the replica and out to the members. */
  absorb(data: Uint8Array): void;
  /** The map was deleted. */
  gone(): void;
  /** A pass ended (a compaction may be waiting for one: `RoomFold.durableSnapshot`). */
  settled(): void;
}

export class CatchUp {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly room: CatchUpRoom,
    private readonly logger: Logger,
  ) {}

  /** Whether a pass is reading SQL or taking in what it read. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Resolves when no pass runs (at once if none does). */
  async idle(): Promise<void> {
    await this.running;
  }

  run(): void {
    if (this.room.isClosed()) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.passes()
      .catch((err: unknown) => this.logger.error({ err, mapId: this.room.mapId }, 'collab: catch-up failed'))
      .finally(() => {
        this.running = undefined;
        this.room.settled();
      });
  }

  private async passes(): Promise<void> {
    const { position } = this.room;
    do {
      this.again = false;
      const tail = await this.room.readAfter(position.seq);
      if (!tail) return this.room.gone();
      if (tail.snapshot) this.room.absorb(tail.snapshot);
      for (const e of tail.entries) {
        if (!position.lacks(e.seq)) continue;
        this.room.absorb(e.data);
        position.advance(e.seq);
      }
      position.caughtUp(tail.headSeq, tail.snapshot !== undefined || tail.entries.length === 0);
    } while (this.again && !this.room.isClosed());
  }
}
