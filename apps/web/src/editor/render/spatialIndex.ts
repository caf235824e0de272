import { touches, type Rect } from '../layout/geometry.ts';

/**
 * A uniform grid over world coordinates: each item is filed in every cell its rectangle touches, and a query
 * visits only the cells under the viewport. Mind-map boxes are small and similar in size, so a grid beats a
 * tree here: O(1) inserts, and a query costs the number of cells plus the items found. Results are unique and
 * in insertion order (which the renderer relies on: parents are inserted before children).
 */
export class GridIndex<T> {
  private readonly cells = new Map<number, number[]>();
  private readonly items: T[] = [];
  private readonly rects: Rect[] = [];
  private seen = new Uint32Array(0);
  private stamp = 0;

  constructor(private readonly cellSize = 256) {}

  get size(): number {
    return this.items.length;
  }

  insert(rect: Rect, item: T): void {
    const id = this.items.push(item) - 1;
    this.rects.push(rect);
    const [cx0, cy0, cx1, cy1] = this.cellRange(rect);
    for (let cy = cy0; cy <= cy1; cy++) {
      for (let cx = cx0; cx <= cx1; cx++) {
        const key = cellKey(cx, cy);
        const cell = this.cells.get(key);
        if (cell) cell.push(id);
        else this.cells.set(key, [id]);
      }
    }
  }

  /** Items whose rectangle intersects `rect`, each once, in insertion order. */
  query(rect: Rect): T[] {
    if (this.seen.length < this.items.length) this.seen = new Uint32Array(this.items.length);
    this.stamp = (this.stamp + 1) >>> 0;
    if (this.stamp === 0) {
      this.seen.fill(0);
      this.stamp = 1;
    }
    const [cx0, cy0, cx1, cy1] = this.cellRange(rect);
    const found: number[] = [];
    // A query larger than the whole index walks the item list instead of empty cells.
    if ((cx1 - cx0 + 1) * (cy1 - cy0 + 1) > this.cells.size) {
      for (let id = 0; id < this.items.length; id++) if (touches(this.rects[id]!, rect)) found.push(id);
      return found.map((id) => this.items[id]!);
    }
    for (let cy = cy0; cy <= cy1; cy++) {
      for (let cx = cx0; cx <= cx1; cx++) {
        const cell = this.cells.get(cellKey(cx, cy));
        if (!cell) continue;
        for (const id of cell) {
          if (this.seen[id] === this.stamp) continue;
          this.seen[id] = this.stamp;
          if (touches(this.rects[id]!, rect)) found.push(id);
        }
      }
    }
    found.sort((a, b) => a - b);
    return found.map((id) => this.items[id]!);
  }

  private cellRange(rect: Rect): [number, number, number, number] {
    const s = this.cellSize;
    return [
      Math.floor(rect.x / s),
      Math.floor(rect.y / s),
      Math.floor((rect.x + rect.width) / s),
      Math.floor((rect.y + rect.height) / s),
    ];
  }
}

/** Packs two cell coordinates (each within ±2^20 cells) into one number key. */
function cellKey(cx: number, cy: number): number {
  return (cx + 1_048_576) * 2_097_152 + (cy + 1_048_576);
}
