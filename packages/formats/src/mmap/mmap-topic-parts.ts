/**
 * The parts of an ap:Topic that the .mmap reader (mmap-import.ts) turns into topic fields: text and rich text,
 * notes, icons, hyperlinks, task data, the image and attachments. Each reads one element, writes the topic, and
 * warns about what it drops.
 */
import type { Link, TextRun, Topic } from '@canopy/model';
import type { BlobCollector } from '../shared/blobs.ts';
import { fromBase64, mimeTypeOf } from '../shared/bytes.ts';
import { argbToCss } from '../shared/document-builder.ts';
import { sanitizeNotesXml } from '../notes/notes-sanitizer.ts';
import { childElements, firstChild, textContent, type XmlElement } from '../xml/xml-tree.ts';
import type { ZipArchive } from '../zip/safe-unzip.ts';
import { AP, COR, MMARCH, XHTML, XSI } from './namespaces.ts';
import { canonicalIconOf } from './stock-icons.ts';
import { guidToObjectId } from './object-ids.ts';

const TOPIC_LINK = /^(?:mj-map:\/\/\/?)?#oid=(.+)$/;

/** Records a warning about something the import drops. */
export type Warn = (message: string) => void;

/** Where binary parts come from and go to. */
export interface BinaryParts {
  zip: ZipArchive;
  blobs: BlobCollector;
  warn: Warn;
}

/** ap:Text: the topic's text, its font as the topic style, and FontRanges as rich text runs. */
export function readText(element: XmlElement, topic: Topic): void {
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

/** ap:NotesGroup: XHTML notes, sanitised (binary RTF and ink notes are dropped, with a warning). */
export function readNotes(group: XmlElement, topic: Topic, warn: Warn): void {
  const xhtml = firstChild(group, AP, 'NotesXhtmlData');
  if (xhtml) {
    const html = sanitizeNotesXml(xhtml.children.filter((n) => typeof n !== 'string' && n.uri === XHTML));
    const notes = html || (xhtml.attrs.PreviewPlainText ? plainNotes(xhtml.attrs.PreviewPlainText) : '');
    if (notes) topic.notesHtml = notes;
  }
  if (childElements(group, AP, 'NotesData').length || firstChild(group, AP, 'NotesInkData')) {
    warn('binary (RTF/ink) notes dropped');
  }
}

/** ap:IconsGroup: stock icons by their canonical name, custom ones by signature. */
export function readIcons(group: XmlElement, topic: Topic, warn: Warn): void {
  const icons = firstChild(group, AP, 'Icons');
  if (!icons) return;
  const out: string[] = [];
  for (const icon of childElements(icons, AP, 'Icon')) {
    const type = icon.attrs[`{${XSI}}type`] ?? '';
    if (icon.attrs.IconType) out.push(canonicalIconOf(icon.attrs.IconType));
    else if (icon.attrs.IconSignature) {
      out.push(`mmap:custom:${icon.attrs.IconSignature}`);
      warn('custom icon images dropped (icons kept by signature)');
    } else warn(`icon of type ${type || 'unknown'} dropped`);
  }
  if (out.length) topic.icons = out;
}

/** ap:Hyperlink: a URL, or a link to a topic of the map (`#oid=`, resolved once every topic is read). */
export function readHyperlink(element: XmlElement): Link | undefined {
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

/** ap:Task: priority, progress, dates, duration and resources. */
export function readTask(element: XmlElement, topic: Topic, warn: Warn): void {
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
    warn('task categories, milestones and effort dropped');
  if (Object.keys(task).length) topic.task = task;
}

/** Binary data of an image or attachment: a part of the archive (bin/...) or inline base64. */
function readBinary(
  element: XmlElement,
  fallbackName: string,
  parts: BinaryParts,
): { data: Uint8Array; name: string } | undefined {
  const uri = firstChild(element, COR, 'Uri');
  if (uri) {
    const target = textContent(uri).trim();
    if (target.startsWith(MMARCH)) {
      const name = target.slice(MMARCH.length);
      const data = parts.zip.read(name);
      if (data) return { data, name };
    }
    parts.warn('links to binary data outside the file dropped');
    return undefined;
  }
  const base64 = firstChild(element, COR, 'Base64');
  if (base64) {
    const data = fromBase64(textContent(base64));
    if (data) return { data, name: fallbackName };
    parts.warn('undecodable embedded binary data dropped');
  }
  return undefined;
}

/** ap:Image: the topic image, kept as a blob, with its size. */
export function readImage(element: XmlElement, topic: Topic, parts: BinaryParts): void {
  const data = firstChild(element, AP, 'ImageData');
  if (!data) return;
  const found = readBinary(
    data,
    data.attrs.ImageType === 'urn:mindjet:MetafileImage' ? 'image.emf' : 'image.png',
    parts,
  );
  if (!found) return;
  const image: NonNullable<Topic['image']> = parts.blobs.add(found.data, mimeTypeOf(found.name));
  const size = firstChild(element, AP, 'ImageSize');
  if (size?.attrs.Width && Number.isFinite(Number(size.attrs.Width))) image.width = Number(size.attrs.Width);
  if (size?.attrs.Height && Number.isFinite(Number(size.attrs.Height)))
    image.height = Number(size.attrs.Height);
  topic.image = image;
}

/** ap:AttachmentGroup: embedded files, kept as blobs. */
export function readAttachments(group: XmlElement, topic: Topic, parts: BinaryParts): void {
  for (const element of childElements(group, AP, 'AttachmentData')) {
    const name = element.attrs.FileName || 'attachment';
    const found = readBinary(element, name, parts);
    if (!found) continue;
    (topic.attachments ??= []).push({ ...parts.blobs.add(found.data, mimeTypeOf(name)), name });
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
