import type { Topic } from '@canopy/model';

/**
 * Branches on the clipboard as a plain-text outline (one topic a line, one tab per level): what other mind-map
 * and outliner apps paste and accept. Line breaks inside a topic become spaces.
 */
export function branchesToOutline(topics: readonly Topic[]): string {
  const lines: string[] = [];
  const stack: { topic: Topic; depth: number }[] = topics.map((topic) => ({ topic, depth: 0 })).reverse();
  while (stack.length > 0) {
    const { topic, depth } = stack.pop()!;
    lines.push('\t'.repeat(depth) + topic.text.replace(/\s*\n\s*/g, ' '));
    for (let i = topic.children.length - 1; i >= 0; i--)
      stack.push({ topic: topic.children[i]!, depth: depth + 1 });
  }
  return lines.join('\n');
}

/**
 * Reads an outline back into topics (ids are placeholders; the store gives fresh ones). Indentation is tabs or
 * spaces, in any consistent unit; list bullets (`-`, `*`, `•`, `1.`) are dropped; blank lines are skipped. A line
 * indented deeper than one level below the previous one becomes that line's child.
 */
export function outlineToTopics(text: string, maxTopics = 5000): Topic[] {
  const roots: Topic[] = [];
  const open: { indent: number; topic: Topic }[] = [];
  let count = 0;
  for (const raw of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (raw.trim() === '' || count >= maxTopics) continue;
    const indent = indentWidth(raw);
    const label = raw.trim().replace(/^(?:[-*•+]|\d+[.)])\s+/, '');
    const topic: Topic = { id: `pasted-${count++}`, text: label, children: [] };
    while (open.length > 0 && open[open.length - 1]!.indent >= indent) open.pop();
    const parent = open[open.length - 1];
    if (parent) parent.topic.children.push(topic);
    else roots.push(topic);
    open.push({ indent, topic });
  }
  return roots;
}

function indentWidth(line: string): number {
  let width = 0;
  for (const ch of line) {
    if (ch === '\t') width += 4;
    else if (ch === ' ') width += 1;
    else break;
  }
  return width;
}
