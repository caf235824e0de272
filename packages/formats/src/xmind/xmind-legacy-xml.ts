/**
 * XMind 8 and earlier store content.xml; it is rewritten into the content.json shape of current versions so that
 * one reader serves both.
 */
import { childElements, firstChild, textContent, type XmlElement } from '../xml/xml-tree.ts';
import type { JsonObject } from '../shared/json-guards.ts';

export const XMAP = 'urn:xmind:xmap:xmlns:content:2.0';
const XLINK = 'http://www.w3.org/1999/xlink';
const XHTML = 'http://www.w3.org/1999/xhtml';
const SVG = 'http://www.w3.org/2000/svg';

function topicToJson(element: XmlElement): JsonObject {
  const out: JsonObject = {
    id: element.attrs.id,
    title: textContent(firstChild(element, XMAP, 'title') ?? { uri: '', local: '', attrs: {}, children: [] }),
  };
  if (element.attrs.branch) out.branch = element.attrs.branch;
  const href = element.attrs[`{${XLINK}}href`];
  if (href) out.href = href;
  const children: Record<string, JsonObject[]> = {};
  for (const topics of childElements(firstChild(element, XMAP, 'children') ?? element, XMAP, 'topics')) {
    const type = topics.attrs.type ?? 'attached';
    (children[type] ??= []).push(...childElements(topics, XMAP, 'topic').map(topicToJson));
  }
  if (Object.keys(children).length) out.children = children;
  const markers = childElements(firstChild(element, XMAP, 'marker-refs') ?? element, XMAP, 'marker-ref');
  if (markers.length) out.markers = markers.map((m) => ({ markerId: m.attrs['marker-id'] }));
  const labels = childElements(firstChild(element, XMAP, 'labels') ?? element, XMAP, 'label');
  if (labels.length) out.labels = labels.map((l) => textContent(l));
  const notes = firstChild(element, XMAP, 'notes');
  if (notes) {
    const html = firstChild(notes, XMAP, 'html');
    const plain = firstChild(notes, XMAP, 'plain');
    out.notes = {
      ...(plain ? { plain: { content: textContent(plain) } } : {}),
      ...(html ? { xmlHtml: html.children } : {}),
    };
  }
  const img = firstChild(element, XHTML, 'img');
  if (img) {
    out.image = {
      src: img.attrs[`{${XHTML}}src`],
      width: Number(img.attrs[`{${SVG}}width`]) || undefined,
      height: Number(img.attrs[`{${SVG}}height`]) || undefined,
    };
  }
  const position = firstChild(element, XMAP, 'position');
  if (position)
    out.position = {
      x: Number(position.attrs[`{${SVG}}x`]) || 0,
      y: Number(position.attrs[`{${SVG}}y`]) || 0,
    };
  const boundaries = childElements(firstChild(element, XMAP, 'boundaries') ?? element, XMAP, 'boundary');
  if (boundaries.length) {
    out.boundaries = boundaries.map((b) => ({
      id: b.attrs.id,
      range: b.attrs.range,
      title: textContent(firstChild(b, XMAP, 'title') ?? b) || undefined,
    }));
  }
  const summaries = childElements(firstChild(element, XMAP, 'summaries') ?? element, XMAP, 'summary');
  if (summaries.length)
    out.summaries = summaries.map((s) => ({
      id: s.attrs.id,
      range: s.attrs.range,
      topicId: s.attrs['topic-id'],
    }));
  return out;
}

export function legacySheetsToJson(content: XmlElement): JsonObject[] {
  return childElements(content, XMAP, 'sheet').map((sheet) => {
    const root = firstChild(sheet, XMAP, 'topic');
    const relationships = childElements(
      firstChild(sheet, XMAP, 'relationships') ?? sheet,
      XMAP,
      'relationship',
    ).map((r) => ({
      id: r.attrs.id,
      end1Id: r.attrs.end1,
      end2Id: r.attrs.end2,
      title:
        textContent(firstChild(r, XMAP, 'title') ?? { uri: '', local: '', attrs: {}, children: [] }) ||
        undefined,
    }));
    return {
      id: sheet.attrs.id,
      title: textContent(firstChild(sheet, XMAP, 'title') ?? { uri: '', local: '', attrs: {}, children: [] }),
      rootTopic: root ? topicToJson(root) : undefined,
      relationships,
    };
  });
}
