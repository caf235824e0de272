/** Measures the advance width of `text` in a CSS `font`. In the browser: a canvas context's measureText. */
export type MeasureTextWidth = (font: string, text: string) => number;

export interface TextBlock {
  readonly lines: readonly string[];
  /** Width of the widest line. */
  readonly width: number;
}

/**
 * Wraps topic text into lines no wider than `maxWidth` (explicit newlines kept, long words broken), caching the
 * result per font, width and text, and caching word widths, so re-layouts after an edit re-measure only what
 * changed. Measuring is the costliest part of opening a large map; the cache makes it a one-off.
 */
export class TextLayoutCache {
  private readonly blocks = new Map<string, TextBlock>();
  private readonly widths = new Map<string, number>();

  constructor(private readonly measureWidth: MeasureTextWidth) {}

  layout(text: string, font: string, maxWidth: number): TextBlock {
    const key = `${font}\u0000${maxWidth}\u0000${text}`;
    const cached = this.blocks.get(key);
    if (cached) return cached;
    const block = this.wrap(text, font, maxWidth);
    this.blocks.set(key, block);
    return block;
  }

  width(font: string, text: string): number {
    const key = `${font}\u0000${text}`;
    let w = this.widths.get(key);
    if (w === undefined) {
      w = this.measureWidth(font, text);
      this.widths.set(key, w);
    }
    return w;
  }

  private wrap(text: string, font: string, maxWidth: number): TextBlock {
    const lines: string[] = [];
    let widest = 0;
    const space = this.width(font, ' ');
    for (const paragraph of text.split('\n')) {
      let line = '';
      let lineWidth = 0;
      for (const word of paragraph.split(' ')) {
        if (word === '') continue;
        let w = this.width(font, word);
        if (line !== '' && lineWidth + space + w <= maxWidth) {
          line += ` ${word}`;
          lineWidth += space + w;
          continue;
        }
        if (line !== '') {
          lines.push(line);
          widest = Math.max(widest, lineWidth);
        }
        let rest = word;
        while (w > maxWidth && rest.length > 1) {
          const cut = this.fitPrefix(rest, font, maxWidth);
          const head = rest.slice(0, cut);
          lines.push(head);
          widest = Math.max(widest, this.width(font, head));
          rest = rest.slice(cut);
          w = this.width(font, rest);
        }
        line = rest;
        lineWidth = w;
      }
      lines.push(line);
      widest = Math.max(widest, lineWidth);
    }
    return { lines, width: widest };
  }

  /** The longest prefix (at least one character) of `word` that fits in `maxWidth`. */
  private fitPrefix(word: string, font: string, maxWidth: number): number {
    let lo = 1;
    let hi = word.length - 1;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (this.measureWidth(font, word.slice(0, mid)) <= maxWidth) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
