/** XMind (.xmind): content.json of XMind Zen/2020+, or content.xml of XMind 8 and earlier. */
import type { Link, MapDocument, Relationship, Topic, TopicStyle } from '@canopy/model';
import { FormatError } from '../errors.ts';
import { maxMarkupDepth, type ImportLimits } from '../limits.ts';
import { sanitizeNotesHtml, sanitizeNotesXml, plainTextToNotesHtml } from '../notes/notes-sanitizer.ts';
import { BlobCollector } from '../shared/blobs.ts';
import { mimeTypeOf, utf8 } from '../shared/bytes.ts';
import { DocumentBuilder, fileStem, normaliseCssColor } from '../shared/document-builder.ts';
import { asArray, asNumber, asObject, asString, parseJson, type JsonObject } from '../shared/json-guards.ts';
import type { ImportResult } from '../types.ts';
import { decodeText, parseXml, type XmlNode } from '../xml/xml-tree.ts';
import { openZip, type ZipArchive } from '../zip/safe-unzip.ts';
import { legacySheetsToJson, XMAP } from './xmind-legacy-xml.ts';

const RANGE = /^\((\d+),(\d+)\)$/;

function parseRange(value: unknown): { from: number; to: number } | undefined {
  const m = RANGE.exec(asString(value) ?? '');
  if (!m) return undefined;
  const from = Number(m[1]);
  const to = Number(m[2]);
  return from <= to ? { from, to } : undefined;
}

function styleOf(topic: JsonObject): TopicStyle | undefined {
  const props = asObject(asObject(topic.style)?.properties);
  if (!props) return undefined;
  const style: TopicStyle = {};
  const fill = normaliseCssColor(asString(props['svg:fill']));
  if (fill) style.fillColor = fill;
  const text = normaliseCssColor(asString(props['fo:color']));
  if (text) style.textColor = text;
  const line = normaliseCssColor(asString(props['line-color']));
  if (line) style.lineColor = line;
  const family = asString(props['fo:font-family']);
  if (family) style.fontFamily = family;
  const size = parseFloat(asString(props['fo:font-size']) ?? '');
  if (Number.isFinite(size)) style.fontSize = size;
  const weight = asString(props['fo:font-weight']);
  if (weight === 'bold' || Number(weight) >= 600) style.bold = true;
  if (asString(props['fo:font-style']) === 'italic') style.italic = true;
  const shape = asString(props['shape-class']);
  if (shape) style.shape = shape.replace(/^org\.xmind\.topicShape\./, '');
  return Object.keys(style).length ? style : undefined;
}

class XmindReader {
  private readonly pendingTopicLinks: Array<{ topic: Topic; index: number; topicId: string }> = [];
  readonly floating: Topic[] = [];

  constructor(
    private readonly zip: ZipArchive,
    private readonly builder: DocumentBuilder,
    private readonly blobs: BlobCollector,
  ) {}

  topic(json: JsonObject, depth: number): Topic {
    const topic = this.builder.topic(depth, asString(json.id), asString(json.title) ?? '');
    if (json.branch === 'folded') topic.collapsed = true;
    const markers = asArray(json.markers)
      .map((m) => asString(asObject(m)?.markerId))
      .filter((m): m is string => !!m);
    if (markers.length) topic.icons = markers;
    const labels = asArray(json.labels).filter((l): l is string => typeof l === 'string' && l !== '');
    if (labels.length) topic.tags = labels;
    this.notes(asObject(json.notes), topic);
    this.href(asString(json.href), topic);
    this.image(asObject(json.image), topic);
    const style = styleOf(json);
    if (style) topic.style = style;
    const position = asObject(json.position);
    if (position && depth === 1)
      topic.position = { x: asNumber(position.x) ?? 0, y: asNumber(position.y) ?? 0 };

    const children = asObject(json.children) ?? {};
    for (const child of asArray(children.attached)) {
      const object = asObject(child);
      if (object) topic.children.push(this.topic(object, depth + 1));
    }
    for (const child of asArray(children.detached)) {
      const object = asObject(child);
      if (!object) continue;
      if (depth !== 0) this.builder.warn('floating topics attached below the central topic moved to the map');
      this.floating.push(this.topic(object, 1));
    }
    if (asArray(children.callout).length) this.builder.warn('callout topics dropped');
    this.boundaries(json, topic);
    this.summaries(json, asArray(children.summary), topic, depth);
    if (
      json.extensions !== undefined &&
      asArray(json.extensions).some((e) => asString(asObject(e)?.provider) !== 'org.xmind.ui.map.unbalanced')
    ) {
      this.builder.warn('XMind extensions (task info, audio notes, ...) dropped');
    }
    return topic;
  }

  private notes(notes: JsonObject | undefined, topic: Topic): void {
    if (!notes) return;
    const realHtml = asString(asObject(notes.realHTML)?.content) ?? asString(asObject(notes.html)?.content);
    const legacyHtml = notes.xmlHtml as XmlNode[] | undefined;
    const plain = asString(asObject(notes.plain)?.content);
    const html = realHtml
      ? sanitizeNotesHtml(realHtml)
      : legacyHtml
        ? sanitizeNotesXml(legacyHtml)
        : plain
          ? plainTextToNotesHtml(plain)
          : '';
    if (html) topic.notesHtml = html;
  }

  private href(href: string | undefined, topic: Topic): void {
    if (!href) return;
    if (href.startsWith('xmind:#')) {
      const links: Link[] = (topic.links ??= []);
      this.pendingTopicLinks.push({ topic, index: links.length, topicId: href.slice('xmind:#'.length) });
      links.push({ kind: 'topic', topicId: href.slice('xmind:#'.length) });
    } else if (href.startsWith('xap:')) {
      const name = href.slice(4);
      const data = this.zip.read(name);
      if (!data) {
        this.builder.warn('attachments missing from the archive dropped');
        return;
      }
      const fileName = name.split('/').pop() || 'attachment';
      (topic.attachments ??= []).push({
        ...this.blobs.add(data, mimeTypeOf(fileName)),
        name: topic.text.trim() && /\.[a-z0-9]+$/i.test(topic.text) ? topic.text : fileName,
      });
    } else {
      (topic.links ??= []).push({ kind: 'url', url: href });
    }
  }

  private image(image: JsonObject | undefined, topic: Topic): void {
    const src = asString(image?.src);
    if (!image || !src) return;
    if (!src.startsWith('xap:')) {
      this.builder.warn('images outside the file dropped');
      return;
    }
    const name = src.slice(4);
    const data = this.zip.read(name);
    if (!data) {
      this.builder.warn('images missing from the archive dropped');
      return;
    }
    const ref: NonNullable<Topic['image']> = this.blobs.add(data, mimeTypeOf(name));
    const width = asNumber(image.width);
    const height = asNumber(image.height);
    if (width !== undefined) ref.width = width;
    if (height !== undefined) ref.height = height;
    topic.image = ref;
  }

  private boundaries(json: JsonObject, topic: Topic): void {
    for (const b of asArray(json.boundaries)) {
      const boundary = asObject(b);
      if (!boundary) continue;
      const range = boundary.range === 'master' ? undefined : parseRange(boundary.range);
      if (!range || range.to >= topic.children.length) {
        this.builder.warn('boundaries around a whole topic or out of range dropped');
        continue;
      }
      const title = asString(boundary.title);
      (topic.boundaries ??= []).push({
        id: this.builder.claimId(asString(boundary.id)),
        range,
        ...(title ? { label: title } : {}),
      });
    }
  }

  private summaries(json: JsonObject, summaryTopics: unknown[], topic: Topic, depth: number): void {
    const byId = new Map<string, JsonObject>();
    for (const s of summaryTopics) {
      const object = asObject(s);
      const id = asString(object?.id);
      if (object && id) byId.set(id, object);
    }
    for (const s of asArray(json.summaries)) {
      const summary = asObject(s);
      const range = parseRange(summary?.range);
      const summaryTopic = byId.get(asString(summary?.topicId) ?? '');
      if (!summary || !range || !summaryTopic || range.to >= topic.children.length) {
        this.builder.warn('summaries without a topic or out of range dropped');
        continue;
      }
      byId.delete(asString(summary.topicId)!);
      (topic.summaries ??= []).push({
        id: this.builder.claimId(asString(summary.id)),
        range,
        topic: this.topic(summaryTopic, depth + 1),
      });
    }
    if (byId.size) this.builder.warn('summary topics without a summary dropped');
  }

  relationships(sheet: JsonObject): Relationship[] {
    const out: Relationship[] = [];
    for (const r of asArray(sheet.relationships)) {
      const rel = asObject(r);
      const fromId = asString(rel?.end1Id);
      const toId = asString(rel?.end2Id);
      if (!rel || !fromId || !toId || !this.builder.hasId(fromId) || !this.builder.hasId(toId)) {
        this.builder.warn('relationships to unknown topics dropped');
        continue;
      }
      const relationship: Relationship = { id: this.builder.claimId(asString(rel.id)), fromId, toId };
      const title = asString(rel.title);
      if (title) relationship.label = title;
      const props = asObject(asObject(rel.style)?.properties);
      const color = normaliseCssColor(asString(props?.['line-color']));
      if (color) relationship.color = color;
      const pattern = asString(props?.['line-pattern']);
      if (pattern && pattern !== 'solid') relationship.dashed = true;
      out.push(relationship);
    }
    return out;
  }

  resolveTopicLinks(): void {
    for (const { topic, index, topicId } of this.pendingTopicLinks) {
      if (this.builder.hasId(topicId)) continue;
      topic.links![index] = { kind: 'url', url: `xmind:#${topicId}` };
      this.builder.warn('topic links to unknown topics kept as URLs');
    }
  }
}

function checkEncryption(zip: ZipArchive, limits: ImportLimits): void {
  for (const entry of zip.entries.values()) {
    if (entry.encrypted) throw new FormatError('password_protected', 'this XMind file is password-protected');
  }
  const manifestXml = zip.entries.has('META-INF/manifest.xml')
    ? zip.read('META-INF/manifest.xml')
    : undefined;
  if (manifestXml && /encryption-data/.test(decodeText(manifestXml))) {
    throw new FormatError('password_protected', 'this XMind file is password-protected');
  }
  const manifestJson = zip.entries.has('manifest.json') ? zip.read('manifest.json') : undefined;
  if (manifestJson) {
    const manifest = asObject(parseJson(utf8.decode(manifestJson), maxMarkupDepth(limits), 'manifest.json'));
    const entries = asObject(manifest?.['file-entries']) ?? {};
    if (Object.values(entries).some((e) => asObject(e)?.['encryption-data'] !== undefined)) {
      throw new FormatError('password_protected', 'this XMind file is password-protected');
    }
  }
}

export function importXmind(
  bytes: Uint8Array,
  limits: ImportLimits,
  filename: string | undefined,
): ImportResult {
  const zip = openZip(bytes, limits);
  checkEncryption(zip, limits);
  let sheets: JsonObject[];
  if (zip.entries.has('content.json')) {
    const json = parseJson(utf8.decode(zip.read('content.json')!), maxMarkupDepth(limits), 'content.json');
    sheets = asArray(json)
      .map(asObject)
      .filter((s): s is JsonObject => !!s);
  } else if (zip.entries.has('content.xml')) {
    const xml = parseXml(decodeText(zip.read('content.xml')!), {
      maxDepth: maxMarkupDepth(limits),
      source: 'content.xml',
    });
    if (xml.uri !== XMAP || xml.local !== 'xmap-content')
      throw new FormatError('invalid_file', 'content.xml is not an XMind map');
    sheets = legacySheetsToJson(xml);
  } else {
    throw new FormatError('invalid_file', '.xmind archive has neither content.json nor content.xml');
  }
  const first = sheets[0];
  const firstRoot = asObject(first?.rootTopic);
  if (!first || !firstRoot)
    throw new FormatError('invalid_file', 'XMind file has no sheet with a central topic');

  const builder = new DocumentBuilder(limits);
  const blobs = new BlobCollector();
  const reader = new XmindReader(zip, builder, blobs);
  const root = reader.topic(firstRoot, 0);
  const relationships = reader.relationships(first);
  for (const sheet of sheets.slice(1)) {
    const sheetRoot = asObject(sheet.rootTopic);
    if (!sheetRoot) continue;
    reader.floating.push(reader.topic(sheetRoot, 1));
    relationships.push(...reader.relationships(sheet));
    builder.warn('sheets after the first imported as floating topics');
  }
  reader.resolveTopicLinks();
  const document: MapDocument = builder.document({
    title: fileStem(filename) ?? (asString(first.title) || root.text),
    root,
    floating: reader.floating,
    relationships,
    meta: { sourceFormat: 'xmind' },
  });
  return { document, blobs: blobs.blobs, warnings: builder.warnings };
}
