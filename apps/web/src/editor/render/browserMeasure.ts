import type { MeasureTextWidth } from './textLayout.ts';

/** Text widths from a detached canvas: the same engine that paints the text, so boxes fit it exactly. */
export function createCanvasTextMeasure(): MeasureTextWidth {
  const ctx = document.createElement('canvas').getContext('2d');
  if (!ctx) throw new Error('2D canvas is not available');
  let current = '';
  return (font, text) => {
    // Comparing with the font we last set: reading ctx.font back returns a normalised string.
    if (font !== current) {
      ctx.font = font;
      current = font;
    }
    return ctx.measureText(text).width;
  };
}
