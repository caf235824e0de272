/**
 * Markdown outline: the central topic is a `#` heading, its children `##`, grandchildren `###`; deeper topics are
 * nested bullets. A topic's notes follow it as plain paragraphs (indented under bullets); a URL link wraps the text.
 */
import type { MapDocument, Topic } from '@canopy/model';
import type { ImportLimits } from '../limits.ts';
import { notesHtmlToPlainText, plainTextToNotesHtml } from '../notes/notes-sanitizer.ts';
import { utf8 } from '../shared/bytes.ts';
import { DocumentBuilder, fileStem } from '../shared/document-builder.ts';
import { droppedFieldWarnings } from '../shared/dropped-fields.ts';
import type { ExportResult, ImportResult } from '../types.ts';

const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const BULLET = /^([ \t]*)(?:[-*+]|\d+[.)])\s+(.*)$/;
const LINKED = /^\[(.*)\]\((\S+?)\)$/;
const HEADING_LEVELS = 3;

function escapeInline(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/([\\`*_[\]#<>])/g, '\\$1');
}

function unescapeInline(text: string): string {
  return text.replace(/\\([\\`*_[\]#<>()!.+-])/g, '$1');
}

export function importMarkdown(
  bytes: Uint8Array,
  limits: ImportLimits,
  filename: string | undefined,
): ImportResult {
  const builder = new DocumentBuilder(limits);
  const lines = utf8
    .decode(bytes)
    .replace(/^\ufeff/, '')
    .split(/\r?\n/);
  const stack: Array<{ topic: Topic; level: number }> = [];
  const roots: Topic[] = [];
  let last: Topic | undefined;
  let notes: string[] = [];
  let inFence = false;
  const flushNotes = (): void => {
    const text = notes.join('\n').trim();
    if (last && text) last.notesHtml = (last.notesHtml ?? '') + plainTextToNotesHtml(text);
    notes = [];
  };
  const add = (level: number, raw: string): void => {
    flushNotes();
    while (stack.length && stack[stack.length - 1]!.level >= level) stack.pop();
    const parent = stack[stack.length - 1];
    const linked = LINKED.exec(raw.trim());
    const topic = builder.topic(stack.length, undefined, unescapeInline(linked ? linked[1]! : raw.trim()));
    if (linked) topic.links = [{ kind: 'url', url: linked[2]! }];
    if (parent) parent.topic.children.push(topic);
    else roots.push(topic);
    stack.push({ topic, level });
    last = topic;
  };
  let headingLevel = 0;
  for (const line of lines) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const heading = inFence ? null : HEADING.exec(line);
    const bullet = inFence ? null : BULLET.exec(line);
    if (heading) {
      headingLevel = heading[1]!.length;
      add(headingLevel * 1000, heading[2]!);
    } else if (bullet) {
      const indent = bullet[1]!.replace(/\t/g, '    ').length;
      add(headingLevel * 1000 + 1 + Math.floor(indent / 2), bullet[2]!);
    } else if (last) {
      notes.push(line.replace(/^\s{2,}/, '').replace(/^\\([#>*+-]|\d+[.)])/, '$1'));
    }
  }
  flushNotes();
  let root: Topic;
  if (roots.length === 1) root = roots[0]!;
  else {
    root = builder.topic(0, undefined, fileStem(filename) ?? 'Map');
    root.children.push(...roots);
  }
  return {
    document: builder.document({
      title: fileStem(filename) ?? root.text,
      root,
      floating: [],
      relationships: [],
    }),
    blobs: new Map(),
    warnings: builder.warnings,
  };
}

export function exportMarkdown(document: MapDocument): ExportResult {
  const out: string[] = [];
  const label = (topic: Topic): string => {
    const text = escapeInline(topic.text);
    const url = topic.links?.find((l) => l.kind === 'url');
    return url?.kind === 'url' ? `[${text}](${url.url.replace(/[()\s]/g, encodeURIComponent)})` : text;
  };
  const notes = (topic: Topic, indent: string): void => {
    if (!topic.notesHtml) return;
    const text = notesHtmlToPlainText(topic.notesHtml);
    if (!text) return;
    out.push('');
    for (const para of text.split('\n')) {
      const safe = para.replace(/^(\s*)([#>*+-]|\d+[.)])(\s)/, '$1\\$2$3');
      out.push(para.trim() ? `${indent}${safe}` : '');
    }
    out.push('');
  };
  const walk = (topic: Topic, depth: number): void => {
    if (depth < HEADING_LEVELS) {
      if (out.length) out.push('');
      out.push(`${'#'.repeat(depth + 1)} ${label(topic)}`);
      notes(topic, '');
    } else {
      const indent = '  '.repeat(depth - HEADING_LEVELS);
      out.push(`${indent}- ${label(topic)}`);
      notes(topic, `${indent}  `);
    }
    topic.children.forEach((child) => walk(child, depth + 1));
  };
  walk(document.root, 0);
  const warnings = droppedFieldWarnings(
    document,
    [
      'richText',
      'icons',
      'task',
      'tags',
      'image',
      'attachments',
      'style',
      'collapsed',
      'position',
      'boundaries',
      'summaries',
    ],
    'Markdown',
  );
  if (document.floating.length)
    warnings.push(`Markdown: ${document.floating.length} floating topics dropped`);
  if (document.relationships.length)
    warnings.push(`Markdown: ${document.relationships.length} relationships dropped`);
  return {
    data: utf8.encode(`${out.join('\n').replace(/\n{3,}/g, '\n\n')}\n`),
    mimeType: 'text/markdown',
    extension: 'md',
    warnings,
  };
}
