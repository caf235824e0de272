/**
 * FreeMind / Freeplane .mm: nodes with TEXT (or rich NODE content), notes (richcontent TYPE="NOTE"), LINK (URL or
 * `#ID` topic link), icons, FOLDED, colours, font, arrow links (relationships). Freeplane's attributes are kept
 * as tags `name=value`.
 */
import type { MapDocument, Relationship, Topic } from '@canopy/model';
import { FormatError } from '../errors.ts';
import { maxMarkupDepth, type ImportLimits } from '../limits.ts';
import { sanitizeNotesHtml, sanitizeNotesXml, notesHtmlToPlainText } from '../notes/notes-sanitizer.ts';
import { utf8 } from '../shared/bytes.ts';
import { DocumentBuilder, fileStem, normaliseCssColor } from '../shared/document-builder.ts';
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
import { xmlAttrs } from '../xml/xml-writer.ts';

const ICON_TO_CANONICAL: Record<string, string> = {
  flag: 'flag-red',
  'flag-blue': 'flag-blue',
  'flag-green': 'flag-green',
  'flag-orange': 'flag-orange',
  'flag-yellow': 'flag-yellow',
  'flag-black': 'flag-black',
  button_ok: 'check',
  help: 'question-mark',
  idea: 'lightbulb',
  'smiley-neutral': 'smiley-neutral',
  smily_bad: 'smiley-sad',
  'smiley-angry': 'smiley-angry',
  ksmiletris: 'smiley-happy',
  stop: 'stop',
  clock: 'clock',
  Mail: 'email',
  up: 'arrow-up',
  down: 'arrow-down',
  back: 'arrow-left',
  forward: 'arrow-right',
  password: 'key',
  licq: 'lightbulb',
};
const CANONICAL_TO_ICON = Object.fromEntries(Object.entries(ICON_TO_CANONICAL).map(([k, v]) => [v, k]));

function iconIn(name: string): string {
  const priority = /^full-([1-9])$/.exec(name);
  if (priority) return `priority-${priority[1]}`;
  return ICON_TO_CANONICAL[name] ?? `mm:${name}`;
}

function iconOut(icon: string): string | undefined {
  const priority = /^priority-([1-9])$/.exec(icon);
  if (priority) return `full-${priority[1]}`;
  if (icon.startsWith('mm:')) return icon.slice(3);
  return CANONICAL_TO_ICON[icon];
}

export function importFreemind(
  bytes: Uint8Array,
  limits: ImportLimits,
  filename: string | undefined,
): ImportResult {
  const xml = parseXml(decodeText(bytes), { maxDepth: maxMarkupDepth(limits), source: '.mm' });
  if (xml.local !== 'map') throw new FormatError('invalid_file', 'not a FreeMind/Freeplane map');
  const rootNode = firstChild(xml, '', 'node');
  if (!rootNode) throw new FormatError('invalid_file', 'FreeMind map without a root node');
  const builder = new DocumentBuilder(limits);
  const arrows: Array<{ from: string; element: XmlElement }> = [];
  const topicLinks: Array<{ topic: Topic; index: number }> = [];

  const node = (element: XmlElement, depth: number): Topic => {
    const richText = childElements(element, '', 'richcontent').find((r) => r.attrs.TYPE === 'NODE');
    const text =
      element.attrs.TEXT ??
      element.attrs.LOCALIZED_TEXT ??
      (richText ? notesHtmlToPlainText(sanitizeNotesXml(richText.children)) : '');
    if (!element.attrs.TEXT && richText) builder.warn('rich node text flattened to plain text');
    const topic = builder.topic(depth, element.attrs.ID, text);
    if (element.attrs.FOLDED === 'true') topic.collapsed = true;
    const link = element.attrs.LINK;
    if (link?.startsWith('#')) {
      topic.links = [{ kind: 'topic', topicId: link.slice(1) }];
      topicLinks.push({ topic, index: 0 });
    } else if (link) topic.links = [{ kind: 'url', url: link }];
    const fill = normaliseCssColor(element.attrs.BACKGROUND_COLOR);
    const color = normaliseCssColor(element.attrs.COLOR);
    if (fill) (topic.style ??= {}).fillColor = fill;
    if (color) (topic.style ??= {}).textColor = color;
    const tags: string[] = [];
    const icons: string[] = [];
    for (const child of element.children) {
      if (typeof child === 'string') continue;
      switch (child.local) {
        case 'node':
          topic.children.push(node(child, depth + 1));
          break;
        case 'richcontent':
          if (child.attrs.TYPE === 'NOTE') {
            const html = child.children.some((n) => typeof n !== 'string')
              ? sanitizeNotesXml(child.children)
              : sanitizeNotesHtml(`<p>${textContent(child)}</p>`);
            if (html) topic.notesHtml = html;
          } else if (child.attrs.TYPE === 'DETAILS') builder.warn('node details dropped');
          break;
        case 'icon':
          if (child.attrs.BUILTIN) icons.push(iconIn(child.attrs.BUILTIN));
          break;
        case 'font': {
          const style = (topic.style ??= {});
          if (child.attrs.NAME) style.fontFamily = child.attrs.NAME;
          if (child.attrs.SIZE && Number.isFinite(Number(child.attrs.SIZE)))
            style.fontSize = Number(child.attrs.SIZE);
          if (child.attrs.BOLD === 'true') style.bold = true;
          if (child.attrs.ITALIC === 'true') style.italic = true;
          break;
        }
        case 'arrowlink':
          arrows.push({ from: topic.id, element: child });
          break;
        case 'attribute':
          if (child.attrs.NAME !== undefined)
            tags.push(child.attrs.VALUE ? `${child.attrs.NAME}=${child.attrs.VALUE}` : child.attrs.NAME);
          break;
        case 'cloud':
          builder.warn('clouds dropped');
          break;
        default:
          break;
      }
    }
    if (icons.length) topic.icons = icons;
    if (tags.length) topic.tags = tags;
    return topic;
  };

  const root = node(rootNode, 0);
  for (const { topic, index } of topicLinks) {
    const link = topic.links![index]!;
    if (link.kind === 'topic' && !builder.hasId(link.topicId)) {
      topic.links![index] = { kind: 'url', url: `#${link.topicId}` };
      builder.warn('links to unknown nodes kept as URLs');
    }
  }
  const relationships: Relationship[] = [];
  for (const { from, element } of arrows) {
    const to = element.attrs.DESTINATION;
    if (!to || !builder.hasId(to)) {
      builder.warn('arrow links to unknown nodes dropped');
      continue;
    }
    const relationship: Relationship = { id: builder.claimId(element.attrs.ID), fromId: from, toId: to };
    const color = normaliseCssColor(element.attrs.COLOR);
    if (color) relationship.color = color;
    const label = element.attrs.MIDDLE_LABEL ?? element.attrs.SOURCE_LABEL;
    if (label) relationship.label = label;
    if (element.attrs.DASH && element.attrs.DASH !== 'SOLID') relationship.dashed = true;
    relationships.push(relationship);
  }
  const document = builder.document({
    title: fileStem(filename) ?? root.text,
    root,
    floating: [],
    relationships,
  });
  return { document, blobs: new Map(), warnings: builder.warnings };
}

export function exportFreemind(document: MapDocument): ExportResult {
  const warnings: string[] = [];
  const ids = new Map<string, string>();
  let counter = 0;
  const idOf = (id: string): string => {
    let out = ids.get(id);
    if (!out) {
      out = /^[A-Za-z_][\w.-]*$/.test(id) ? id : `ID_${++counter}`;
      while ([...ids.values()].includes(out)) out = `ID_${++counter}`;
      ids.set(id, out);
    }
    return out;
  };
  const assign = (t: Topic): void => {
    idOf(t.id);
    t.children.forEach(assign);
  };
  assign(document.root);
  const arrowsFrom = new Map<string, Relationship[]>();
  for (const r of document.relationships) {
    if (!ids.has(r.fromId) || !ids.has(r.toId)) {
      warnings.push('FreeMind: relationships to floating or summary topics dropped');
      continue;
    }
    arrowsFrom.set(r.fromId, [...(arrowsFrom.get(r.fromId) ?? []), r]);
  }
  let droppedIcons = 0;
  let droppedLinks = 0;
  const node = (topic: Topic): string => {
    const first = topic.links?.[0];
    if ((topic.links?.length ?? 0) > 1 || (first?.kind === 'topic' && !ids.has(first.topicId)))
      droppedLinks++;
    const link =
      first?.kind === 'url'
        ? first.url
        : first?.kind === 'topic' && ids.has(first.topicId)
          ? `#${idOf(first.topicId)}`
          : undefined;
    let xml = `<node${xmlAttrs({
      ID: idOf(topic.id),
      TEXT: topic.text,
      FOLDED: topic.collapsed ? 'true' : undefined,
      LINK: link,
      COLOR: topic.style?.textColor?.slice(0, 7),
      BACKGROUND_COLOR: topic.style?.fillColor?.slice(0, 7),
    })}>`;
    const s = topic.style;
    if (s && (s.fontFamily || s.fontSize || s.bold || s.italic)) {
      xml += `<font${xmlAttrs({ NAME: s.fontFamily ?? 'SansSerif', SIZE: s.fontSize ?? 12, BOLD: s.bold ? 'true' : undefined, ITALIC: s.italic ? 'true' : undefined })}/>`;
    }
    for (const icon of topic.icons ?? []) {
      const name = iconOut(icon);
      if (name) xml += `<icon${xmlAttrs({ BUILTIN: name })}/>`;
      else droppedIcons++;
    }
    for (const tag of topic.tags ?? []) {
      const eq = tag.indexOf('=');
      xml += `<attribute${xmlAttrs(eq > 0 ? { NAME: tag.slice(0, eq), VALUE: tag.slice(eq + 1) } : { NAME: tag, VALUE: '' })}/>`;
    }
    if (topic.notesHtml) {
      xml += `<richcontent TYPE="NOTE"><html><head/><body>${sanitizeNotesHtml(topic.notesHtml)}</body></html></richcontent>`;
    }
    for (const r of arrowsFrom.get(topic.id) ?? []) {
      xml += `<arrowlink${xmlAttrs({ ID: `Arrow_${idOf(r.id)}`, DESTINATION: idOf(r.toId), COLOR: r.color?.slice(0, 7), MIDDLE_LABEL: r.label, DASH: r.dashed ? '3 3' : undefined })}/>`;
    }
    return `${xml}${topic.children.map(node).join('')}</node>`;
  };
  const xml = `<map version="freeplane 1.9.0">\n${node(document.root)}\n</map>\n`;
  warnings.push(
    ...droppedFieldWarnings(
      document,
      ['richText', 'task', 'image', 'attachments', 'position', 'boundaries', 'summaries'],
      'FreeMind',
    ),
  );
  if (droppedIcons) warnings.push(`FreeMind: ${droppedIcons} icons without a FreeMind equivalent dropped`);
  if (droppedLinks) warnings.push(`FreeMind: ${droppedLinks} links beyond the first per topic dropped`);
  if (document.floating.length)
    warnings.push(`FreeMind: ${document.floating.length} floating topics dropped`);
  return {
    data: utf8.encode(xml),
    mimeType: 'application/x-freemind',
    extension: 'mm',
    warnings: [...new Set(warnings)],
  };
}
