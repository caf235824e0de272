import { describe, expect, it, vi } from 'vitest';
import { TextLayoutCache } from './textLayout.ts';

/** Every character is 10 units wide. */
const monospace = (_font: string, text: string) => text.length * 10;

describe('TextLayoutCache', () => {
  it('keeps short text on one line', () => {
    const cache = new TextLayoutCache(monospace);
    expect(cache.layout('Launch plan', '14px sans', 200)).toEqual({ lines: ['Launch plan'], width: 110 });
  });

  it('wraps at spaces to the maximum width and keeps explicit line breaks', () => {
    const cache = new TextLayoutCache(monospace);
    expect(cache.layout('one two three four', '14px sans', 90).lines).toEqual(['one two', 'three', 'four']);
    expect(cache.layout('first\nsecond', '14px sans', 500).lines).toEqual(['first', 'second']);
  });

  it('breaks a word longer than the line', () => {
    const cache = new TextLayoutCache(monospace);
    const block = cache.layout('abcdefghijkl', '14px sans', 50);
    expect(block.lines).toEqual(['abcde', 'fghij', 'kl']);
    expect(block.width).toBe(50);
  });

  it('keeps an empty text as one empty line (a new topic still has a height)', () => {
    expect(new TextLayoutCache(monospace).layout('', '14px sans', 100)).toEqual({ lines: [''], width: 0 });
  });

  it('measures each word once per font', () => {
    const measure = vi.fn(monospace);
    const cache = new TextLayoutCache(measure);
    cache.layout('plan review plan', '14px sans', 500);
    cache.layout('review plan', '14px sans', 400);
    const words = measure.mock.calls.map(([, text]) => text);
    expect(words.filter((w) => w === 'plan')).toHaveLength(1);
    expect(words.filter((w) => w === 'review')).toHaveLength(1);
    cache.layout('plan', '16px sans', 500);
    expect(measure.mock.calls.filter(([font, text]) => font === '16px sans' && text === 'plan')).toHaveLength(
      1,
    );
  });
});
