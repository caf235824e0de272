/** OPML 2.0 outlines: text, notes (`_note`, plain text), links (`type="link"` + `url`), collapsed state. */
import type { MapDocument, Topic } from '@canopy/model';
import { FormatError } from '../errors.ts';
import { maxMarkupDepth, type ImportLimits } from '../limits.ts';
import { notesHtmlToPlainText, plainTextToNotesHtml } from '../notes/notes-sanitizer.ts';
import { utf8 } from '../shared/bytes.ts';
import { DocumentBuilder, fileStem } from '../shared/document-builder.ts';
import { droppedFieldWarnings } from '../shared/dropped-fields.ts';
import type { ExportResult, ImportResult } from '../types.ts';
import {
  childElements,
  decodeText,
  firstChild,
  parseXml,
  textContent,
  type XmlElement,
} from '../xml/xml-tree.ts';
import { escapeXmlText, xmlAttrs } from '../xml/xml-writer.ts';

export function importOpml(
  bytes: Uint8Array,
  limits: ImportLimits,
  filename: string | undefined,
): ImportResult {
  const xml = parseXml(decodeText(bytes), { maxDepth: maxMarkupDepth(limits), source: 'OPML' });
  if (xml.local !== 'opml') throw new FormatError('invalid_file', 'not an OPML document');
  const body = firstChild(xml, xml.uri, 'body');
  if (!body) throw new FormatError('invalid_file', 'OPML without a body');
  const headTitle = textContent(
    firstChild(firstChild(xml, xml.uri, 'head') ?? xml, xml.uri, 'title') ?? {
      uri: '',
      local: '',
      attrs: {},
      children: [],
    },
  ).trim();
  const builder = new DocumentBuilder(limits);
  const outline = (element: XmlElement, depth: number): Topic => {
    const topic = builder.topic(depth, undefined, element.attrs.text ?? element.attrs.title ?? '');
    if (element.attrs._note) topic.notesHtml = plainTextToNotesHtml(element.attrs._note);
    const url = element.attrs.url ?? element.attrs.htmlUrl ?? element.attrs.xmlUrl;
    if (url) topic.links = [{ kind: 'url', url }];
    if (element.attrs._collapsed === 'true') topic.collapsed = true;
    for (const child of childElements(element, xml.uri, 'outline'))
      topic.children.push(outline(child, depth + 1));
    return topic;
  };
  const tops = childElements(body, xml.uri, 'outline');
  let root: Topic;
  if (tops.length === 1) {
    root = outline(tops[0]!, 0);
  } else {
    root = builder.topic(0, undefined, headTitle || fileStem(filename) || 'Map');
    for (const top of tops) root.children.push(outline(top, 1));
  }
  const document = builder.document({
    title: headTitle || fileStem(filename) || root.text,
    root,
    floating: [],
    relationships: [],
  });
  return { document, blobs: new Map(), warnings: builder.warnings };
}

export function exportOpml(document: MapDocument): ExportResult {
  const outline = (topic: Topic): string => {
    const link = topic.links?.find((l) => l.kind === 'url');
    const attrs = xmlAttrs({
      text: topic.text,
      _note: topic.notesHtml ? notesHtmlToPlainText(topic.notesHtml) : undefined,
      type: link ? 'link' : undefined,
      url: link?.kind === 'url' ? link.url : undefined,
      _collapsed: topic.collapsed ? 'true' : undefined,
    });
    return topic.children.length
      ? `<outline${attrs}>${topic.children.map(outline).join('')}</outline>`
      : `<outline${attrs}/>`;
  };
  const xml =
    `<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0"><head><title>${escapeXmlText(document.title)}</title></head>` +
    `<body>${outline(document.root)}</body></opml>\n`;
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
      'position',
      'boundaries',
      'summaries',
    ],
    'OPML',
  );
  if (hasTopicLinks(document)) warnings.push('OPML: topic links and links after the first dropped');
  if (document.floating.length) warnings.push(`OPML: ${document.floating.length} floating topics dropped`);
  if (document.relationships.length)
    warnings.push(`OPML: ${document.relationships.length} relationships dropped`);
  if (/<(?!\/?(p|br)\b)/.test(allNotes(document)))
    warnings.push('OPML: notes formatting dropped (plain text kept)');
  return { data: utf8.encode(xml), mimeType: 'text/x-opml', extension: 'opml', warnings };
}

function hasTopicLinks(document: MapDocument): boolean {
  let found = false;
  const walk = (t: Topic): void => {
    const links = t.links ?? [];
    if (links.some((l) => l.kind === 'topic') || links.filter((l) => l.kind === 'url').length > 1)
      found = true;
    t.children.forEach(walk);
  };
  walk(document.root);
  return found;
}

function allNotes(document: MapDocument): string {
  let out = '';
  const walk = (t: Topic): void => {
    out += t.notesHtml ?? '';
    t.children.forEach(walk);
  };
  walk(document.root);
  return out;
}
