/**
 * MindManager .mmap → MapDocument. Document.xml is read against the element structure of the application's own
 * XSDs (ap:Topic's sequence in MindManagerApplication.xsd); binary parts come from the archive's bin/ folder.
 */
import type { Boundary, Link, MapDocument, Relationship, Topic } from '@canopy/model';
import { FormatError } from '../errors.ts';
import { maxMarkupDepth, type ImportLimits } from '../limits.ts';
import { BlobCollector } from '../shared/blobs.ts';
import { argbToCss, DocumentBuilder, fileStem } from '../shared/document-builder.ts';
import {
  childElements,
  decodeText,
  firstChild,
  streamXml,
  type XmlDecision,
  type XmlElement,
  type XmlStreamHandler,
} from '../xml/xml-tree.ts';
import { openZip, type ZipArchive } from '../zip/safe-unzip.ts';
import type { ImportResult } from '../types.ts';
import { AP, COR } from './namespaces.ts';
import {
  readAttachments,
  readHyperlink,
  readIcons,
  readImage,
  readNotes,
  readTask,
  readText,
  type BinaryParts,
  type Warn,
} from './mmap-topic-parts.ts';

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

  private readonly parts: BinaryParts;
  private readonly warn: Warn;

  constructor(
    zip: ZipArchive,
    private readonly builder: DocumentBuilder,
    blobs: BlobCollector,
  ) {
    this.warn = (message) => builder.warn(message);
    this.parts = { zip, blobs, warn: this.warn };
  }

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
        if (image) readImage(image, topic, this.parts);
        break;
      }
      case 'TopicViewGroup':
        if ((child.attrs.ViewIndex ?? '0') === '0') {
          const collapsed = firstChild(child, AP, 'Collapsed');
          if (collapsed?.attrs.Collapsed === 'true') topic.collapsed = true;
        }
        break;
      case 'Text':
        readText(child, topic);
        break;
      case 'Color': {
        const fill = argbToCss(child.attrs.FillColor);
        const line = argbToCss(child.attrs.LineColor);
        if (fill) (topic.style ??= {}).fillColor = fill;
        if (line) (topic.style ??= {}).lineColor = line;
        break;
      }
      case 'NotesGroup':
        readNotes(child, topic, this.warn);
        break;
      case 'Offset':
        if (frame.isFloating)
          topic.position = { x: Number(child.attrs.CX ?? 0) || 0, y: Number(child.attrs.CY ?? 0) || 0 };
        else if (!frame.isRoot && (Number(child.attrs.CX ?? 0) !== 0 || Number(child.attrs.CY ?? 0) !== 0))
          this.droppedOffsets.count++;
        break;
      case 'IconsGroup':
        readIcons(child, topic, this.warn);
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
          const link = readHyperlink(h);
          if (!link) continue;
          if (link.kind === 'topic') this.pendingTopicLinks.push({ topic, link });
          frame.links.push(link);
        }
        break;
      case 'Task':
        readTask(child, topic, this.warn);
        break;
      case 'AttachmentGroup':
        readAttachments(child, topic, this.parts);
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
