/**
 * MindManager .mmap → MapDocument. Document.xml is read against the element structure of the application's own
 * XSDs (ap:Topic's sequence in MindManagerApplication.xsd); binary parts come from the archive's bin/ folder.
 */
import type { Boundary, Link, MapDocument, Relationship, TextRun, Topic } from '@canopy/model';
import { FormatError } from '../errors.ts';
import { maxMarkupDepth, type ImportLimits } from '../limits.ts';
import { BlobCollector } from '../shared/blobs.ts';
import { fromBase64, mimeTypeOf } from '../shared/bytes.ts';
import { argbToCss, DocumentBuilder, fileStem } from '../shared/document-builder.ts';
import { sanitizeNotesXml } from '../notes/notes-sanitizer.ts';
import {
  childElements,
  decodeText,
  firstChild,
  streamXml,
  textContent,
  type XmlDecision,
  type XmlElement,
  type XmlStreamHandler,
} from '../xml/xml-tree.ts';
import { openZip, type ZipArchive } from '../zip/safe-unzip.ts';
import type { ImportResult } from '../types.ts';
import { AP, COR, MMARCH, XHTML, XSI } from './namespaces.ts';
import { canonicalIconOf } from './stock-icons.ts';
import { guidToObjectId } from './object-ids.ts';

const TOPIC_LINK = /^(?:mj-map:\/\/\/?)?#oid=(.+)$/;

/** The open elements that give a topic its place: the reader's stack while Document.xml streams past. */
type Frame =
  | { kind: 'map' | 'one-topic' }
  | {
      kind: 'topic';
      topic: Topic;
      depth: number;
      isRoot: boolean;
      isFloating: boolean;
      links: Link[];
      place: Place;
      boundary?: Omit<Boundary, 'range'>;
      summary?: { id: string; topic: Topic };
    }
  | { kind: 'sub-topics' | 'floating-topics' | 'one-boundary'; owner: TopicFrame }
  | { kind: 'boundary'; owner: TopicFrame; boundary: Omit<Boundary, 'range'>; summaryTopic?: Topic }
  | { kind: 'one-summary'; boundary: BoundaryFrame };
type TopicFrame = Extract<Frame, { kind: 'topic' }>;
type BoundaryFrame = Extract<Frame, { kind: 'boundary' }>;
/** Where a finished topic goes. */
type Place =
  | { kind: 'root' }
  | { kind: 'child'; parent: TopicFrame }
  | { kind: 'floating' }
  | { kind: 'summary'; boundary: BoundaryFrame };

/** Map-level parts that carry no topics: skipped unread. */
const SKIPPED_MAP_PARTS = new Set([
  'StyleGroup',
  'MarkersSetGroup',
  'DocumentGroup',
  'MapViewGroup',
  'ReviewGroup',
  'FiltersGroup',
  'NamedViewGroup',
  'Custom',
]);

class MmapReader implements XmlStreamHandler {
  private readonly frames: Frame[] = [];
  private readonly floating: Topic[] = [];
  private readonly pendingTopicLinks: Array<{ topic: Topic; link: Link & { kind: 'topic' } }> = [];
  private readonly droppedOffsets = { count: 0 };
  private relationshipsElement: XmlElement | undefined;
  private root: Topic | undefined;
  private sawMap = false;

  constructor(
    private readonly zip: ZipArchive,
    private readonly builder: DocumentBuilder,
    private readonly blobs: BlobCollector,
  ) {}

  open(uri: string, local: string, attrs: Record<string, string>): XmlDecision {
    const parent = this.frames[this.frames.length - 1];
    if (!parent) {
      if (uri !== AP || local !== 'Map')
        throw new FormatError('invalid_file', 'Document.xml is not a MindManager map (ap:Map)');
      this.sawMap = true;
      this.frames.push({ kind: 'map' });
      return 'descend';
    }
    if (uri !== AP) return this.other(parent);
    switch (parent.kind) {
      case 'map':
        if (local === 'OneTopic') {
          this.frames.push({ kind: 'one-topic' });
          return 'descend';
        }
        if (local === 'Relationships') return 'capture';
        return SKIPPED_MAP_PARTS.has(local) ? 'skip' : this.other(parent);
      case 'one-topic':
        return local === 'Topic' && !this.root
          ? this.openTopic(attrs, { kind: 'root' }, 0, true, false)
          : this.other(parent);
      case 'sub-topics':
        return local === 'Topic'
          ? this.openTopic(
              attrs,
              { kind: 'child', parent: parent.owner },
              parent.owner.depth + 1,
              false,
              false,
            )
          : this.other(parent);
      case 'floating-topics': {
        if (local !== 'Topic') return this.other(parent);
        if (!parent.owner.isRoot)
          this.builder.warn('callout topics detached from their topic (kept as floating topics)');
        return this.openTopic(
          attrs,
          { kind: 'floating' },
          parent.owner.isRoot ? 1 : parent.owner.depth + 1,
          false,
          true,
        );
      }
      case 'one-summary':
        return local === 'Topic'
          ? this.openTopic(
              attrs,
              { kind: 'summary', boundary: parent.boundary },
              parent.boundary.owner.depth + 1,
              false,
              false,
            )
          : this.other(parent);
      case 'one-boundary':
        if (local !== 'Boundary') return this.other(parent);
        this.frames.push({
          kind: 'boundary',
          owner: parent.owner,
          boundary: { id: this.builder.claimId(attrs.OId) },
        });
        return 'descend';
      case 'boundary':
        if (local === 'OneSummaryTopic') {
          this.frames.push({ kind: 'one-summary', boundary: parent });
          return 'descend';
        }
        return 'capture';
      case 'topic':
        if (local === 'SubTopics' || local === 'FloatingTopics' || local === 'OneBoundary') {
          this.frames.push({
            kind:
              local === 'SubTopics'
                ? 'sub-topics'
                : local === 'FloatingTopics'
                  ? 'floating-topics'
                  : 'one-boundary',
            owner: parent,
          });
          return 'descend';
        }
        return 'capture';
      default:
        return this.other(parent);
    }
  }

  /** Elements the XSD does not put here: a topic or boundary keeps them for `property`, elsewhere they are skipped. */
  private other(parent: Frame): XmlDecision {
    return parent.kind === 'topic' || parent.kind === 'boundary' ? 'capture' : 'skip';
  }

  private openTopic(
    attrs: Record<string, string>,
    place: Place,
    depth: number,
    isRoot: boolean,
    isFloating: boolean,
  ): XmlDecision {
    const topic = this.builder.topic(depth, attrs.OId, '');
    this.frames.push({ kind: 'topic', topic, depth, isRoot, isFloating, links: [], place });
    return 'descend';
  }

  close(element: XmlElement, captured: boolean): void {
    const parent = this.frames[this.frames.length - 1];
    if (captured) {
      if (parent?.kind === 'topic') this.property(element, parent);
      else if (parent?.kind === 'boundary') this.boundaryPart(element, parent);
      else if (parent?.kind === 'map' && element.uri === AP && element.local === 'Relationships')
        this.relationshipsElement = element;
      return;
    }
    const frame = this.frames.pop();
    if (frame?.kind === 'topic') this.closeTopic(frame);
    else if (frame?.kind === 'boundary') {
      if (frame.summaryTopic) frame.owner.summary = { id: frame.boundary.id, topic: frame.summaryTopic };
      else frame.owner.boundary = frame.boundary;
    }
  }

  private closeTopic(frame: TopicFrame): void {
    const { topic, place } = frame;
    if (frame.links.length) topic.links = frame.links;
    switch (place.kind) {
      case 'root':
        this.root = topic;
        if (frame.boundary || frame.summary) this.builder.warn('boundary around the central topic dropped');
        break;
      case 'floating':
        this.floating.push(topic);
        if (frame.boundary || frame.summary) this.builder.warn('boundaries around floating topics dropped');
        break;
      case 'summary':
        place.boundary.summaryTopic = topic;
        break;
      case 'child': {
        const owner = place.parent.topic;
        const index = owner.children.length;
        owner.children.push(topic);
        if (frame.boundary)
          (owner.boundaries ??= []).push({ ...frame.boundary, range: { from: index, to: index } });
        if (frame.summary)
          (owner.summaries ??= []).push({ ...frame.summary, range: { from: index, to: index } });
        break;
      }
    }
  }

  finish(title: string | undefined): MapDocument {
    if (!this.sawMap || !this.root)
      throw new FormatError('invalid_file', 'Document.xml has no central topic (ap:OneTopic/ap:Topic)');
    const relationships = this.relationshipsElement ? this.relationships(this.relationshipsElement) : [];
    this.resolveTopicLinks();
    if (this.droppedOffsets.count > 0)
      this.builder.warn(`manual layout offsets of ${this.droppedOffsets.count} subtopics dropped`);
    return this.builder.document({
      title: title ?? this.root.text,
      root: this.root,
      floating: this.floating,
      relationships,
      meta: { sourceFormat: 'mmap' },
    });
  }

  private boundaryPart(element: XmlElement, frame: BoundaryFrame): void {
    if (element.uri !== AP) return;
    if (element.local === 'Color') {
      const color = argbToCss(element.attrs.LineColor);
      if (color) frame.boundary.color = color;
    } else if (element.local === 'BoundaryShape') {
      const shape = element.attrs.BoundaryShape;
      if (shape) frame.boundary.shape = shape.replace(/^urn:mindjet:/, '');
    }
  }

  /** One child element of ap:Topic other than SubTopics, FloatingTopics and OneBoundary. */
  private property(child: XmlElement, frame: TopicFrame): void {
    if (child.uri !== AP) return;
    const topic = frame.topic;
    switch (child.local) {
      case 'OneImage': {
        const image = firstChild(child, AP, 'Image');
        if (image) this.image(image, topic);
        break;
      }
      case 'TopicViewGroup':
        if ((child.attrs.ViewIndex ?? '0') === '0') {
          const collapsed = firstChild(child, AP, 'Collapsed');
          if (collapsed?.attrs.Collapsed === 'true') topic.collapsed = true;
        }
        break;
      case 'Text':
        this.text(child, topic);
        break;
      case 'Color': {
        const fill = argbToCss(child.attrs.FillColor);
        const line = argbToCss(child.attrs.LineColor);
        if (fill) (topic.style ??= {}).fillColor = fill;
        if (line) (topic.style ??= {}).lineColor = line;
        break;
      }
      case 'NotesGroup':
        this.notes(child, topic);
        break;
      case 'Offset':
        if (frame.isFloating)
          topic.position = { x: Number(child.attrs.CX ?? 0) || 0, y: Number(child.attrs.CY ?? 0) || 0 };
        else if (!frame.isRoot && (Number(child.attrs.CX ?? 0) !== 0 || Number(child.attrs.CY ?? 0) !== 0))
          this.droppedOffsets.count++;
        break;
      case 'IconsGroup':
        this.icons(child, topic);
        break;
      case 'SubTopicShape': {
        const shape = child.attrs.SubTopicShape;
        if (shape)
          (topic.style ??= {}).shape = shape
            .replace(/^urn:mindjet:/, '')
            .replace(/([a-z])([A-Z])/g, '$1-$2')
            .toLowerCase();
        break;
      }
      case 'Hyperlink':
      case 'HyperlinkGroup':
        for (const h of child.local === 'Hyperlink'
          ? [child]
          : childElements(child, AP, 'IndexedHyperlink')) {
          const link = this.hyperlink(h);
          if (!link) continue;
          if (link.kind === 'topic') this.pendingTopicLinks.push({ topic, link });
          frame.links.push(link);
        }
        break;
      case 'Task':
        this.task(child, topic);
        break;
      case 'AttachmentGroup':
        this.attachments(child, topic);
        break;
      case 'TextLabels': {
        const tags = childElements(child, AP, 'TextLabel')
          .map((l) => l.attrs.TextLabelName ?? '')
          .filter(Boolean);
        if (tags.length) topic.tags = tags;
        break;
      }
      case 'Comments':
        if (childElements(child, AP, 'Comment').length) this.builder.warn('topic comments dropped');
        break;
      case 'InkGroup':
      case 'OneInkSketch':
        this.builder.warn('ink sketches dropped');
        break;
      case 'BusinessDataGroup':
      case 'Formulas':
      case 'TopicFormulas':
      case 'ConditionalRules':
        this.builder.warn(`${child.local} dropped`);
        break;
      default:
        break;
    }
  }

  private text(element: XmlElement, topic: Topic): void {
    topic.text = element.attrs.PlainText ?? '';
    let font: XmlElement | undefined;
    let hasRanges = false;
    for (const child of element.children) {
      if (typeof child === 'string' || child.uri !== AP) continue;
      if (child.local === 'Font') font ??= child;
      else if (child.local === 'FontRange') hasRanges = true;
    }
    const a = font?.attrs;
    if (a && (a.Name || a.Size || a.Bold === 'true' || a.Italic === 'true' || a.Color)) {
      const style = (topic.style ??= {});
      if (a.Name) style.fontFamily = a.Name;
      if (a.Size && Number.isFinite(Number(a.Size))) style.fontSize = Number(a.Size);
      if (a.Bold === 'true') style.bold = true;
      if (a.Italic === 'true') style.italic = true;
      const color = argbToCss(a.Color);
      if (color) style.textColor = color;
    }
    const whole = a && (a.Underline === 'true' || a.Strikethrough === 'true');
    if (!hasRanges && !whole) return;
    topic.richText = textRuns(topic.text, font, childElements(element, AP, 'FontRange'));
  }

  private notes(group: XmlElement, topic: Topic): void {
    const xhtml = firstChild(group, AP, 'NotesXhtmlData');
    if (xhtml) {
      const html = sanitizeNotesXml(xhtml.children.filter((n) => typeof n !== 'string' && n.uri === XHTML));
      const notes = html || (xhtml.attrs.PreviewPlainText ? plainNotes(xhtml.attrs.PreviewPlainText) : '');
      if (notes) topic.notesHtml = notes;
    }
    if (childElements(group, AP, 'NotesData').length || firstChild(group, AP, 'NotesInkData')) {
      this.builder.warn('binary (RTF/ink) notes dropped');
    }
  }

  private icons(group: XmlElement, topic: Topic): void {
    const icons = firstChild(group, AP, 'Icons');
    if (!icons) return;
    const out: string[] = [];
    for (const icon of childElements(icons, AP, 'Icon')) {
      const type = icon.attrs[`{${XSI}}type`] ?? '';
      if (icon.attrs.IconType) out.push(canonicalIconOf(icon.attrs.IconType));
      else if (icon.attrs.IconSignature) {
        out.push(`mmap:custom:${icon.attrs.IconSignature}`);
        this.builder.warn('custom icon images dropped (icons kept by signature)');
      } else this.builder.warn(`icon of type ${type || 'unknown'} dropped`);
    }
    if (out.length) topic.icons = out;
  }

  private hyperlink(element: XmlElement): Link | undefined {
    const url = element.attrs.Url;
    if (!url) return undefined;
    const title = element.attrs.Name || undefined;
    const topicLink = TOPIC_LINK.exec(url);
    if (topicLink?.[1]) {
      let topicId = topicLink[1];
      try {
        topicId = decodeURIComponent(topicId);
      } catch {
        // keep the raw reference
      }
      topicId = guidToObjectId(topicId) ?? topicId;
      return title ? { kind: 'topic', topicId, title } : { kind: 'topic', topicId };
    }
    return title ? { kind: 'url', url, title } : { kind: 'url', url };
  }

  private resolveTopicLinks(): void {
    for (const { topic, link } of this.pendingTopicLinks) {
      if (this.builder.hasId(link.topicId)) continue;
      const index = topic.links?.indexOf(link) ?? -1;
      if (index >= 0)
        topic.links![index] = {
          kind: 'url',
          url: `mj-map:///#oid=${link.topicId}`,
          ...(link.title ? { title: link.title } : {}),
        };
      this.builder.warn('topic links to topics outside the map kept as URLs');
    }
  }

  private task(element: XmlElement, topic: Topic): void {
    const a = element.attrs;
    const task: NonNullable<Topic['task']> = {};
    const priority = /Prio([1-9])$/.exec(a.TaskPriority ?? '');
    if (priority) task.priority = Number(priority[1]);
    if (a.TaskPercentage !== undefined && /^\d+$/.test(a.TaskPercentage))
      task.progress = Math.min(100, Number(a.TaskPercentage));
    if (a.StartDate) task.startDate = a.StartDate;
    if (a.DeadlineDate) task.dueDate = a.DeadlineDate;
    const minutes = Number(a.DurationHours ?? 0) * 60 + Number(a.DurationMinutes ?? 0);
    if (Number.isFinite(minutes) && minutes > 0) task.durationMinutes = minutes;
    if (a.Resources) {
      const resources = a.Resources.split(';')
        .map((r) => r.trim())
        .filter(Boolean);
      if (resources.length) task.resources = resources;
    }
    if (a.Categories || a.Milestone === 'true' || a.EffortMinutes)
      this.builder.warn('task categories, milestones and effort dropped');
    if (Object.keys(task).length) topic.task = task;
  }

  private binary(element: XmlElement, fallbackName: string): { data: Uint8Array; name: string } | undefined {
    const uri = firstChild(element, COR, 'Uri');
    if (uri) {
      const target = textContent(uri).trim();
      if (target.startsWith(MMARCH)) {
        const name = target.slice(MMARCH.length);
        const data = this.zip.read(name);
        if (data) return { data, name };
      }
      this.builder.warn('links to binary data outside the file dropped');
      return undefined;
    }
    const base64 = firstChild(element, COR, 'Base64');
    if (base64) {
      const data = fromBase64(textContent(base64));
      if (data) return { data, name: fallbackName };
      this.builder.warn('undecodable embedded binary data dropped');
    }
    return undefined;
  }

  private image(element: XmlElement, topic: Topic): void {
    const data = firstChild(element, AP, 'ImageData');
    if (!data) return;
    const found = this.binary(
      data,
      data.attrs.ImageType === 'urn:mindjet:MetafileImage' ? 'image.emf' : 'image.png',
    );
    if (!found) return;
    const image: NonNullable<Topic['image']> = this.blobs.add(found.data, mimeTypeOf(found.name));
    const size = firstChild(element, AP, 'ImageSize');
    if (size?.attrs.Width && Number.isFinite(Number(size.attrs.Width)))
      image.width = Number(size.attrs.Width);
    if (size?.attrs.Height && Number.isFinite(Number(size.attrs.Height)))
      image.height = Number(size.attrs.Height);
    topic.image = image;
  }

  private attachments(group: XmlElement, topic: Topic): void {
    for (const element of childElements(group, AP, 'AttachmentData')) {
      const name = element.attrs.FileName || 'attachment';
      const found = this.binary(element, name);
      if (!found) continue;
      (topic.attachments ??= []).push({ ...this.blobs.add(found.data, mimeTypeOf(name)), name });
    }
  }

  private relationships(container: XmlElement): Relationship[] {
    const out: Relationship[] = [];
    for (const element of childElements(container, AP, 'Relationship')) {
      const ends: Array<string | undefined> = [undefined, undefined];
      for (const group of childElements(element, AP, 'ConnectionGroup')) {
        const index = Number(group.attrs.Index);
        const connection = firstChild(group, AP, 'Connection') ?? group;
        // The XSD declares ObjectReference locally in ap: (elementFormDefault qualified); accept cor: too.
        const ref = (
          firstChild(connection, AP, 'ObjectReference') ?? firstChild(connection, COR, 'ObjectReference')
        )?.attrs.OIdRef;
        if (index === 0 || index === 1) ends[index] = ref;
      }
      const [fromId, toId] = ends;
      if (!fromId || !toId || !this.builder.hasId(fromId) || !this.builder.hasId(toId)) {
        this.builder.warn('relationships to unknown topics dropped');
        continue;
      }
      const relationship: Relationship = { id: this.builder.claimId(element.attrs.OId), fromId, toId };
      const label = firstChild(
        firstChild(firstChild(element, AP, 'FloatingTopics') ?? element, AP, 'Topic') ?? element,
        AP,
        'Text',
      );
      if (label?.attrs.PlainText) relationship.label = label.attrs.PlainText;
      const color = argbToCss(firstChild(element, AP, 'Color')?.attrs.LineColor);
      if (color) relationship.color = color;
      const dash = firstChild(element, AP, 'LineStyle')?.attrs.LineDashStyle;
      if (dash && dash !== 'urn:mindjet:Solid') relationship.dashed = true;
      out.push(relationship);
    }
    return out;
  }
}

function plainNotes(text: string): string {
  return `<p>${text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</p>`;
}

function fontRun(font: XmlElement | undefined, run: TextRun): void {
  if (!font) return;
  const a = font.attrs;
  if (a.Bold !== undefined) run.bold = a.Bold === 'true';
  if (a.Italic !== undefined) run.italic = a.Italic === 'true';
  if (a.Underline !== undefined) run.underline = a.Underline === 'true';
  if (a.Strikethrough !== undefined) run.strike = a.Strikethrough === 'true';
  const color = argbToCss(a.Color);
  if (color) run.color = color;
  if (a.Name) run.fontFamily = a.Name;
  if (a.Size && Number.isFinite(Number(a.Size))) run.fontSize = Number(a.Size);
}

/** FontRange From/To are UTF-16 offsets into PlainText, To exclusive; later ranges win where they overlap. */
function textRuns(text: string, font: XmlElement | undefined, ranges: XmlElement[]): TextRun[] {
  const cuts = new Set<number>([0, text.length]);
  const spans = ranges.map((r) => {
    const from = Math.max(0, Math.min(text.length, Number(r.attrs.From) || 0));
    const to = Math.max(from, Math.min(text.length, Number(r.attrs.To) || 0));
    cuts.add(from);
    cuts.add(to);
    return { from, to, element: r };
  });
  const points = [...cuts].sort((a, b) => a - b);
  const runs: TextRun[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const from = points[i]!;
    const to = points[i + 1]!;
    if (to <= from) continue;
    const run: TextRun = { text: text.slice(from, to) };
    if (font && (font.attrs.Underline === 'true' || font.attrs.Strikethrough === 'true')) {
      if (font.attrs.Underline === 'true') run.underline = true;
      if (font.attrs.Strikethrough === 'true') run.strike = true;
    }
    for (const span of spans) if (span.from <= from && span.to >= to) fontRun(span.element, run);
    runs.push(run);
  }
  return runs.length ? runs : [{ text }];
}

export function importMmap(
  bytes: Uint8Array,
  limits: ImportLimits,
  filename: string | undefined,
): ImportResult {
  const zip = openZip(bytes, limits);
  const name = [...zip.entries.keys()].find((n) => n.toLowerCase() === 'document.xml');
  if (!name) throw new FormatError('invalid_file', '.mmap archive has no Document.xml');
  const builder = new DocumentBuilder(limits);
  const blobs = new BlobCollector();
  const reader = new MmapReader(zip, builder, blobs);
  streamXml(
    decodeText(zip.read(name)!),
    { maxDepth: maxMarkupDepth(limits), source: 'Document.xml' },
    reader,
  );
  const document = reader.finish(fileStem(filename));
  return { document, blobs: blobs.blobs, warnings: builder.warnings };
}
