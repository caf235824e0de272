/**
 * Random bytes for values that are stored in the clear next to what they protect (a sealed value's HKDF salt
 * and AES-GCM IV), taken from a buffer that one `randomFillSync` call fills for many values, as Node's own
 * `randomUUID` does. Each `randomBytes` call is a native crypto job whose weak handle V8 processes when it
 * collects the young generation: at 250 co-editing edits/s that was one job per edit, and in the server such
 * handles (this one, and the sealing's HMACs and cipher) took 0.5-5 ms of each scavenge's pause (session 12,
 * `--trace-gc-nvp`). Never use it for secrets: bytes wait in memory until taken.
 */
import { randomFillSync } from 'node:crypto';

export class RandomPool {
  private readonly pool: Buffer;
  private offset: number;

  constructor(size = 4096) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('pool size must be a positive integer');
    this.pool = Buffer.alloc(size);
    this.offset = size;
  }

  /** Fills `target` with fresh random bytes; no byte is ever handed out twice. */
  fill(target: Uint8Array): void {
    let written = 0;
    while (written < target.length) {
      if (this.offset === this.pool.length) {
        randomFillSync(this.pool);
        this.offset = 0;
      }
      const n = Math.min(target.length - written, this.pool.length - this.offset);
      target.set(this.pool.subarray(this.offset, this.offset + n), written);
      // Wiped once handed out, so the pool never holds bytes already in use.
      this.pool.fill(0, this.offset, this.offset + n);
      this.offset += n;
      written += n;
    }
  }
}

/** The process's pool for public per-value randomness (salts, IVs). */
export const publicRandomness = new RandomPool();
