/**
 * MapDocument → MindManager .mmap. Document.xml follows the element order of the XSD sequences
 * (MindManagerApplication.xsd: ap:Map, ap:Topic, ap:Boundary, ap:Relationship) and validates against them.
 */
import type { MapDocument, Topic } from '@canopy/model';
import { sanitizeNotesHtml, notesHtmlToPlainText } from '../notes/notes-sanitizer.ts';
import { blobResolver, type BlobResolver } from '../shared/blobs.ts';
import { extensionOf, utf8 } from '../shared/bytes.ts';
import { cssToArgb } from '../shared/document-builder.ts';
import { solidPng } from '../shared/png.ts';
import type { ExportOptions, ExportResult } from '../types.ts';
import { escapeXmlText, xmlAttrs } from '../xml/xml-writer.ts';
import { writeZip } from '../zip/zip-writer.ts';
import { AP, COR, PRI, XHTML, XSI } from './namespaces.ts';
import { objectIdFor, objectIdToGuid } from './object-ids.ts';
import { mmapIconTypeOf } from './stock-icons.ts';

const PROGRESS_MARKERS: Record<string, number> = {
  'task-start': 0,
  'task-oct': 12,
  'task-quarter': 25,
  'task-3oct': 37,
  'task-half': 50,
  'task-5oct': 62,
  'task-3quar': 75,
  'task-7oct': 87,
  'task-done': 100,
};
const BOUNDARY_SHAPES = new Set([
  'Lines',
  'Zigzag',
  'Scallops',
  'Waves',
  'CurvedLine',
  'Rectangle',
  'CurvedRectangle',
]);
const TOPIC_SHAPES = new Set([
  'none',
  'line',
  'rectangle',
  'rounded-rectangle',
  'hexagon',
  'octagon',
  'circle',
  'oval',
  'diamond',
  'capsule',
]);

const pascal = (kebab: string): string =>
  kebab.replace(/(^|-)([a-z])/g, (_, _dash: string, c: string) => c.toUpperCase());

class MmapWriter {
  private readonly bin: Array<{ name: string; data: Uint8Array }> = [];
  private readonly binByRef = new Map<string, string>();
  private readonly warnings = new Map<string, number>();
  private readonly oids = new Map<string, string>();
  private readonly usedOids = new Set<string>();

  constructor(private readonly resolve: BlobResolver) {}

  warn(message: string): void {
    this.warnings.set(message, (this.warnings.get(message) ?? 0) + 1);
  }

  warningList(): string[] {
    return [...this.warnings].map(([m, n]) => (n > 1 ? `${m} (${n}×)` : m));
  }

  files(): Array<{ name: string; data: Uint8Array }> {
    return this.bin;
  }

  /** Object ids are assigned before writing so topic links and relationships can refer forward. */
  assignIds(document: MapDocument): void {
    const visit = (topic: Topic): void => {
      this.oidOf(topic.id);
      topic.children.forEach(visit);
      for (const s of topic.summaries ?? []) visit(s.topic);
    };
    visit(document.root);
    document.floating.forEach(visit);
  }

  oidOf(id: string): string {
    const known = this.oids.get(id);
    if (known) return known;
    let oid = objectIdFor(id);
    for (let salt = 1; this.usedOids.has(oid); salt++) oid = objectIdFor(`${id}#${salt}`);
    this.oids.set(id, oid);
    this.usedOids.add(oid);
    return oid;
  }

  hasTopic(id: string): boolean {
    return this.oids.has(id);
  }

  private freshOid(seed: string): string {
    return this.oidOf(`canopy-export:${seed}`);
  }

  private binary(ref: string, fallbackMime: string | undefined): { uri: string } | undefined {
    const existing = this.binByRef.get(ref);
    if (existing) return { uri: existing };
    const blob = this.resolve(ref);
    if (!blob) {
      this.warn('images and attachments whose bytes were not supplied dropped');
      return undefined;
    }
    const name = `bin/${ref.replace(/[^a-zA-Z0-9]/g, '').slice(0, 40)}.${extensionOf(blob.mimeType || fallbackMime)}`;
    this.bin.push({ name, data: blob.data });
    const uri = `mmarch://${name}`;
    this.binByRef.set(ref, uri);
    return { uri };
  }

  topic(
    topic: Topic,
    context: { floating: Topic[] | undefined; boundary?: string; isFloating?: boolean },
  ): string {
    let xml = `<ap:Topic${xmlAttrs({ OId: this.oidOf(topic.id) })}>`;
    if (topic.children.length) {
      const wrappers = this.childBoundaries(topic);
      xml += '<ap:SubTopics>';
      topic.children.forEach((child, i) => {
        xml += this.topic(child, { floating: undefined, ...(wrappers[i] ? { boundary: wrappers[i] } : {}) });
      });
      xml += '</ap:SubTopics>';
    }
    if (context.floating?.length) {
      xml += '<ap:FloatingTopics>';
      for (const f of context.floating) xml += this.topic(f, { floating: undefined, isFloating: true });
      xml += '</ap:FloatingTopics>';
    }
    if (context.boundary) xml += context.boundary;
    if (topic.image) {
      const bin = this.binary(topic.image.ref, topic.image.mimeType);
      if (bin) {
        const isPng = (topic.image.mimeType ?? '').includes('png');
        xml += `<ap:OneImage><ap:Image${xmlAttrs({ OId: this.freshOid(`image:${topic.id}`) })}>`;
        xml += `<ap:ImageData${xmlAttrs({ ImageType: isPng ? 'urn:mindjet:PngImage' : undefined, CustomImageType: isPng ? undefined : topic.image.mimeType })}><cor:Uri>${escapeXmlText(bin.uri)}</cor:Uri></ap:ImageData>`;
        if (topic.image.width !== undefined || topic.image.height !== undefined) {
          xml += `<ap:ImageSize${xmlAttrs({ Width: num(topic.image.width), Height: num(topic.image.height) })}/>`;
        }
        xml += '</ap:Image></ap:OneImage>';
      }
    }
    if (topic.collapsed)
      xml += '<ap:TopicViewGroup ViewIndex="0"><ap:Collapsed Collapsed="true"/></ap:TopicViewGroup>';
    xml += this.text(topic);
    const fill = cssToArgb(topic.style?.fillColor);
    const line = cssToArgb(topic.style?.lineColor);
    if (fill || line) xml += `<ap:Color${xmlAttrs({ FillColor: fill, LineColor: line })}/>`;
    if (topic.notesHtml) {
      const html = sanitizeNotesHtml(topic.notesHtml);
      const preview = notesHtmlToPlainText(html).slice(0, 1000);
      xml += `<ap:NotesGroup><ap:NotesXhtmlData${xmlAttrs({ PreviewPlainText: preview })}><html xmlns="${XHTML}"><body>${html}</body></html></ap:NotesXhtmlData></ap:NotesGroup>`;
    }
    if (topic.position && context.isFloating) {
      xml += `<ap:Offset${xmlAttrs({ CX: num(topic.position.x), CY: num(topic.position.y) })}/>`;
    } else if (topic.position) {
      this.warn('positions of attached topics dropped');
    }
    const task = { ...topic.task };
    xml += this.icons(topic, task);
    if (topic.style?.shape) {
      if (TOPIC_SHAPES.has(topic.style.shape))
        xml += `<ap:SubTopicShape SubTopicShape="urn:mindjet:${pascal(topic.style.shape)}"/>`;
      else this.warn('topic shapes MindManager does not have dropped');
    }
    const links = (topic.links ?? [])
      .map((link) =>
        link.kind === 'url' ? { url: link.url, title: link.title } : this.topicLink(link.topicId, link.title),
      )
      .filter((l): l is { url: string; title: string | undefined } => !!l);
    const first = links[0];
    if (first) xml += `<ap:Hyperlink${xmlAttrs({ Url: first.url, Name: first.title })}/>`;
    xml += this.task(task);
    xml += this.attachments(topic);
    if (topic.tags?.length) {
      xml += `<ap:TextLabels>${topic.tags.map((t) => `<ap:TextLabel${xmlAttrs({ TextLabelName: t })}/>`).join('')}</ap:TextLabels>`;
    }
    if (links.length > 1) {
      xml += '<ap:HyperlinkGroup>';
      links.slice(1).forEach((l, i) => {
        xml += `<ap:IndexedHyperlink${xmlAttrs({ Url: l.url, Name: l.title, Index: i })}/>`;
      });
      xml += '</ap:HyperlinkGroup>';
    }
    return `${xml}</ap:Topic>`;
  }

  private topicLink(
    topicId: string,
    title: string | undefined,
  ): { url: string; title: string | undefined } | undefined {
    if (!this.hasTopic(topicId)) {
      this.warn('topic links to missing topics dropped');
      return undefined;
    }
    return { url: `mj-map:///#oid=${objectIdToGuid(this.oidOf(topicId))}`, title };
  }

  /** One ap:OneBoundary per child at most: MindManager boundaries and summaries surround a single topic. */
  private childBoundaries(topic: Topic): Array<string | undefined> {
    const parts: Array<{ color?: string; shape?: string; summary?: Topic; id: string } | undefined> = [];
    for (const b of topic.boundaries ?? []) {
      if (b.range.from !== b.range.to || b.range.from >= topic.children.length || parts[b.range.from]) {
        this.warn('boundaries over several topics dropped (MindManager boundaries surround one topic)');
        continue;
      }
      parts[b.range.from] = {
        id: b.id,
        ...(b.color ? { color: b.color } : {}),
        ...(b.shape ? { shape: b.shape } : {}),
      };
      if (b.label) this.warn('boundary labels dropped');
    }
    for (const s of topic.summaries ?? []) {
      const existing = parts[s.range.from];
      if (s.range.from !== s.range.to || s.range.from >= topic.children.length || existing?.summary) {
        this.warn('summaries over several topics dropped (MindManager summaries surround one topic)');
        continue;
      }
      parts[s.range.from] = { ...(existing ?? { id: s.id }), summary: s.topic };
    }
    return parts.map((part) => {
      if (!part) return undefined;
      let xml = `<ap:OneBoundary><ap:Boundary${xmlAttrs({ OId: this.freshOid(`boundary:${part.id}`) })}>`;
      const color = cssToArgb(part.color);
      if (color) xml += `<ap:Color LineColor="${color}"/>`;
      if (part.shape && BOUNDARY_SHAPES.has(part.shape))
        xml += `<ap:BoundaryShape BoundaryShape="urn:mindjet:${part.shape}"/>`;
      if (part.summary)
        xml += `<ap:OneSummaryTopic>${this.topic(part.summary, { floating: undefined })}</ap:OneSummaryTopic>`;
      return `${xml}</ap:Boundary></ap:OneBoundary>`;
    });
  }

  private text(topic: Topic): string {
    const s = topic.style ?? {};
    const font = xmlAttrs({
      Name: s.fontFamily,
      Size: num(s.fontSize),
      Bold: s.bold,
      Italic: s.italic,
      Color: cssToArgb(s.textColor),
    });
    let ranges = '';
    let offset = 0;
    const joined = (topic.richText ?? []).map((r) => r.text).join('');
    if (topic.richText && joined === topic.text) {
      for (const run of topic.richText) {
        const attrs = xmlAttrs({
          Name: run.fontFamily,
          Size: num(run.fontSize),
          Bold: run.bold,
          Italic: run.italic,
          Underline: run.underline,
          Strikethrough: run.strike,
          Color: cssToArgb(run.color),
        });
        if (attrs && run.text.length)
          ranges += `<ap:FontRange${attrs} From="${offset}" To="${offset + run.text.length}"/>`;
        offset += run.text.length;
      }
    } else if (topic.richText) {
      this.warn('rich text whose runs do not match the plain text dropped');
    }
    return `<ap:Text${xmlAttrs({ PlainText: topic.text })}><ap:Font${font}/>${ranges}</ap:Text>`;
  }

  private icons(topic: Topic, task: NonNullable<Topic['task']>): string {
    let icons = '';
    for (const icon of topic.icons ?? []) {
      const priority = /^priority-([1-9])$/.exec(icon);
      if (priority) {
        task.priority ??= Number(priority[1]);
        continue;
      }
      if (icon in PROGRESS_MARKERS) {
        task.progress ??= PROGRESS_MARKERS[icon];
        continue;
      }
      const stock =
        mmapIconTypeOf(icon) ??
        (icon.startsWith('mmap:') && !icon.startsWith('mmap:custom:')
          ? mmapIconTypeOf(icon.slice(5))
          : undefined);
      const custom = /^mmap:custom:([A-Za-z0-9+/]{22}==)$/.exec(icon)?.[1];
      if (stock) icons += `<ap:Icon xsi:type="ap:StockIcon" IconType="${stock}"/>`;
      else if (custom) icons += `<ap:Icon xsi:type="ap:CustomIcon" IconSignature="${custom}"/>`;
      else this.warn('icons MindManager has no stock icon for dropped');
    }
    return icons ? `<ap:IconsGroup><ap:Icons>${icons}</ap:Icons></ap:IconsGroup>` : '';
  }

  private task(task: NonNullable<Topic['task']>): string {
    const attrs = xmlAttrs({
      TaskPriority: task.priority ? `urn:mindjet:Prio${task.priority}` : undefined,
      TaskPercentage: task.progress,
      StartDate: validDate(task.startDate, () => this.warn('task dates that are not RFC 3339 dropped')),
      DeadlineDate: validDate(task.dueDate, () => this.warn('task dates that are not RFC 3339 dropped')),
      DurationMinutes: task.durationMinutes !== undefined ? Math.round(task.durationMinutes) : undefined,
      Resources: task.resources?.length ? task.resources.join('; ') : undefined,
    });
    return attrs ? `<ap:Task${attrs}/>` : '';
  }

  private attachments(topic: Topic): string {
    let xml = '';
    topic.attachments?.forEach((a, i) => {
      const bin = this.binary(a.ref, a.mimeType);
      if (!bin) return;
      xml += `<ap:AttachmentData${xmlAttrs({ Index: i, FileName: a.name, FileSize: a.size, AttachmentId: this.freshOid(`attachment:${topic.id}:${i}`) })}><cor:Uri>${escapeXmlText(bin.uri)}</cor:Uri></ap:AttachmentData>`;
    });
    return xml ? `<ap:AttachmentGroup>${xml}</ap:AttachmentGroup>` : '';
  }

  relationships(document: MapDocument): string {
    let xml = '';
    for (const r of document.relationships) {
      if (!this.hasTopic(r.fromId) || !this.hasTopic(r.toId)) {
        this.warn('relationships to missing topics dropped');
        continue;
      }
      xml += `<ap:Relationship${xmlAttrs({ OId: this.freshOid(`relationship:${r.id}`) })}>`;
      [r.fromId, r.toId].forEach((end, index) => {
        xml += `<ap:ConnectionGroup Index="${index}"><ap:Connection><ap:ObjectReference OIdRef="${this.oidOf(end)}"/></ap:Connection></ap:ConnectionGroup>`;
      });
      if (r.label) {
        xml += `<ap:FloatingTopics><ap:Topic${xmlAttrs({ OId: this.freshOid(`label:${r.id}`) })}><ap:Text${xmlAttrs({ PlainText: r.label })}><ap:Font/></ap:Text></ap:Topic></ap:FloatingTopics>`;
      }
      const color = cssToArgb(r.color);
      if (color) xml += `<ap:Color LineColor="${color}"/>`;
      if (r.dashed) xml += '<ap:LineStyle LineDashStyle="urn:mindjet:Dash"/>';
      xml += '</ap:Relationship>';
    }
    return xml ? `<ap:Relationships>${xml}</ap:Relationships>` : '';
  }
}

function num(value: number | undefined): string | undefined {
  return value === undefined || !Number.isFinite(value) ? undefined : String(value);
}

function validDate(value: string | undefined, onInvalid: () => void): string | undefined {
  if (value === undefined) return undefined;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/.test(value)) return value;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return `${value}T00:00:00`;
  onInvalid();
  return undefined;
}

export function exportMmap(document: MapDocument, options: ExportOptions): ExportResult {
  const writer = new MmapWriter(blobResolver(options));
  writer.assignIds(document);
  const body = writer.topic(document.root, { floating: document.floating });
  const relationships = writer.relationships(document);
  const xml =
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>' +
    `<ap:Map xmlns:ap="${AP}" xmlns:cor="${COR}" xmlns:pri="${PRI}" xmlns:xsi="${XSI}"${xmlAttrs({ OId: writer.oidOf(`canopy-map:${document.root.id}`) })}>` +
    `<ap:OneTopic>${body}</ap:OneTopic>${relationships}` +
    '<ap:DocumentGroup><ap:Version Major="16" Minor="0"/></ap:DocumentGroup>' +
    '</ap:Map>';
  const data = writeZip([
    { name: 'Document.xml', data: utf8.encode(xml) },
    { name: 'Preview.png', data: solidPng(16, 16, [255, 255, 255]), store: true },
    ...writer.files(),
  ]);
  if (document.meta && Object.keys(document.meta).some((k) => k !== 'sourceFormat'))
    writer.warn('map metadata (author, ...) dropped');
  return {
    data,
    mimeType: 'application/vnd.mindjet.mindmanager',
    extension: 'mmap',
    warnings: writer.warningList(),
  };
}
