import { describe, expect, it } from 'vitest';
import { topicFrom } from '../testing/fixtures.ts';
import { branchesToOutline, outlineToTopics } from './outline.ts';

const shape = (topics: { text: string; children: unknown[] }[]): unknown =>
  topics.map((t) => [t.text, ...(shape(t.children as never) as unknown[])]);

describe('clipboard outline', () => {
  it('writes one topic a line, a tab per level', () => {
    const branch = topicFrom(['Plan', ['Research', ['Interviews']], ['Budget']]);
    expect(branchesToOutline([branch])).toBe('Plan\n\tResearch\n\t\tInterviews\n\tBudget');
  });

  it('reads back what it writes', () => {
    const branches = [topicFrom(['A', ['A1', ['A1a']], ['A2']]), topicFrom(['B'])];
    expect(shape(outlineToTopics(branchesToOutline(branches)))).toEqual(shape(branches));
  });

  it('reads space-indented lists with bullets, skipping blank lines', () => {
    const text = '- Goals\n  - Grow\n    * Europe\n\n  - Keep\n- Risks\r\n';
    expect(shape(outlineToTopics(text))).toEqual([['Goals', ['Grow', ['Europe']], ['Keep']], ['Risks']]);
  });

  it('bounds how many topics a paste can create', () => {
    expect(outlineToTopics('a\nb\nc\nd', 2)).toHaveLength(2);
  });
});
