/** MapDocument → XMind (content.json of XMind 2020+, with manifest.json and metadata.json). */
import type { MapDocument, Topic } from '@canopy/model';
import { blobResolver } from '../shared/blobs.ts';
import { extensionOf, utf8 } from '../shared/bytes.ts';
import { solidPng } from '../shared/png.ts';
import type { ExportOptions, ExportResult } from '../types.ts';
import { writeZip } from '../zip/zip-writer.ts';

const PROGRESS_MARKERS: Array<[number, string]> = [
  [0, 'task-start'],
  [12, 'task-oct'],
  [25, 'task-quarter'],
  [37, 'task-3oct'],
  [50, 'task-half'],
  [62, 'task-5oct'],
  [75, 'task-3quar'],
  [87, 'task-7oct'],
  [100, 'task-done'],
];

type Json = Record<string, unknown>;

export function exportXmind(document: MapDocument, options: ExportOptions): ExportResult {
  const resolve = blobResolver(options);
  const files = new Map<string, Uint8Array>();
  const warnings = new Map<string, number>();
  const warn = (m: string): void => void warnings.set(m, (warnings.get(m) ?? 0) + 1);
  const resource = (ref: string, mimeType: string | undefined, folder: string): string | undefined => {
    const blob = resolve(ref);
    if (!blob) {
      warn('images and attachments whose bytes were not supplied dropped');
      return undefined;
    }
    const name = `${folder}/${ref.replace(/^sha256:/, '').replace(/[^a-zA-Z0-9]/g, '')}.${extensionOf(blob.mimeType || mimeType)}`;
    files.set(name, blob.data);
    return `xap:${name}`;
  };

  const topic = (t: Topic, position?: { x: number; y: number }): Json => {
    const out: Json = { id: t.id, class: 'topic', title: t.text };
    const markers = [...(t.icons ?? [])];
    if (t.task?.priority && !markers.some((m) => m.startsWith('priority-')))
      markers.push(`priority-${t.task.priority}`);
    if (t.task?.progress !== undefined && !markers.some((m) => m.startsWith('task-'))) {
      const nearest = PROGRESS_MARKERS.reduce((best, m) =>
        Math.abs(m[0] - t.task!.progress!) < Math.abs(best[0] - t.task!.progress!) ? m : best,
      );
      markers.push(nearest[1]);
      if (nearest[0] !== t.task.progress) warn('task progress rounded to the nearest XMind marker');
    }
    if (
      t.task &&
      (t.task.startDate || t.task.dueDate || t.task.durationMinutes !== undefined || t.task.resources?.length)
    )
      warn('task dates, durations and resources dropped');
    if (markers.length) out.markers = markers.map((markerId) => ({ markerId }));
    if (t.tags?.length) out.labels = t.tags;
    if (t.notesHtml)
      out.notes = {
        realHTML: { content: t.notesHtml },
        plain: {
          content: t.notesHtml
            .replace(/<br\/>/g, '\n')
            .replace(/<\/p>/g, '\n')
            .replace(/<[^>]*>/g, '')
            .replace(/&lt;/g, '<')
            .replace(/&gt;/g, '>')
            .replace(/&quot;/g, '"')
            .replace(/&amp;/g, '&')
            .trim(),
        },
      };
    const link = t.links?.[0];
    if (link) out.href = link.kind === 'url' ? link.url : `xmind:#${link.topicId}`;
    if (link?.title) warn('link titles dropped');
    if ((t.links?.length ?? 0) > 1) warn('links after the first per topic dropped (XMind holds one)');
    if (t.attachments?.length) {
      const first = t.attachments[0]!;
      if (out.href) warn('attachments on topics that have a link dropped');
      else {
        const src = resource(first.ref, first.mimeType, 'attachments');
        if (src) out.href = src;
      }
      if (t.attachments.length > 1) warn('attachments after the first per topic dropped');
    }
    if (t.image) {
      const src = resource(t.image.ref, t.image.mimeType, 'resources');
      if (src)
        out.image = {
          src,
          ...(t.image.width !== undefined ? { width: t.image.width } : {}),
          ...(t.image.height !== undefined ? { height: t.image.height } : {}),
        };
    }
    if (t.collapsed) out.branch = 'folded';
    if (position ?? t.position) out.position = position ?? t.position;
    const s = t.style;
    if (s) {
      const props: Json = {};
      if (s.fillColor) props['svg:fill'] = s.fillColor;
      if (s.textColor) props['fo:color'] = s.textColor;
      if (s.lineColor) props['line-color'] = s.lineColor;
      if (s.fontFamily) props['fo:font-family'] = s.fontFamily;
      if (s.fontSize) props['fo:font-size'] = `${s.fontSize}pt`;
      if (s.bold) props['fo:font-weight'] = 'bold';
      if (s.italic) props['fo:font-style'] = 'italic';
      if (s.shape) props['shape-class'] = `org.xmind.topicShape.${s.shape}`;
      out.style = { id: `${t.id}-style`, properties: props };
    }
    if (t.richText) warn('rich text runs dropped (XMind keeps plain titles)');
    const children: Json = {};
    if (t.children.length) children.attached = t.children.map((c) => topic(c));
    if (t.summaries?.length) {
      children.summary = t.summaries.map((s) => topic(s.topic));
      out.summaries = t.summaries.map((s) => ({
        id: s.id,
        range: `(${s.range.from},${s.range.to})`,
        topicId: s.topic.id,
      }));
    }
    if (t.boundaries?.length) {
      out.boundaries = t.boundaries.map((b) => ({
        id: b.id,
        range: `(${b.range.from},${b.range.to})`,
        ...(b.label ? { title: b.label } : {}),
      }));
      if (t.boundaries.some((b) => b.color || b.shape)) warn('boundary colours and shapes dropped');
    }
    if (Object.keys(children).length) out.children = children;
    return out;
  };

  const root = topic(document.root);
  if (document.floating.length) {
    root.children = {
      ...(root.children as Json | undefined),
      detached: document.floating.map((f) => topic(f, f.position ?? { x: 0, y: 200 })),
    };
  }
  const sheet: Json = {
    id: `sheet-${document.root.id}`,
    class: 'sheet',
    title: document.title,
    rootTopic: root,
    relationships: document.relationships.map((r) => ({
      id: r.id,
      end1Id: r.fromId,
      end2Id: r.toId,
      ...(r.label ? { title: r.label } : {}),
      ...(r.color || r.dashed
        ? {
            style: {
              id: `${r.id}-style`,
              properties: {
                ...(r.color ? { 'line-color': r.color } : {}),
                ...(r.dashed ? { 'line-pattern': 'dash' } : {}),
              },
            },
          }
        : {}),
    })),
  };
  const entries = [
    { name: 'content.json', data: utf8.encode(JSON.stringify([sheet])) },
    {
      name: 'metadata.json',
      data: utf8.encode(
        JSON.stringify({ creator: { name: 'Canopy', version: '1' }, activeSheetId: sheet.id }),
      ),
    },
    { name: 'Thumbnails/thumbnail.png', data: solidPng(16, 16, [255, 255, 255]), store: true },
    ...[...files].map(([name, data]) => ({ name, data })),
  ];
  const manifest = { 'file-entries': Object.fromEntries(entries.map((e) => [e.name, {}])) };
  entries.push({ name: 'manifest.json', data: utf8.encode(JSON.stringify(manifest)) });
  if (document.meta && Object.keys(document.meta).some((k) => k !== 'sourceFormat'))
    warn('map metadata (author, ...) dropped');
  return {
    data: writeZip(entries),
    mimeType: 'application/vnd.xmind.workbook',
    extension: 'xmind',
    warnings: [...warnings].map(([m, n]) => (n > 1 ? `${m} (${n}×)` : m)),
  };
}
