/** MapDocument → one self-contained, offline HTML5 page rendered from a versioned template. */
import type { MapDocument, Topic } from '@canopy/model';
import { FormatError } from '../errors.ts';
import { sanitizeNotesHtml } from '../notes/notes-sanitizer.ts';
import { blobResolver } from '../shared/blobs.ts';
import { toBase64, utf8 } from '../shared/bytes.ts';
import { forEachTopic } from '../shared/document-builder.ts';
import type { ExportOptions, ExportResult } from '../types.ts';
import { escapeXmlText } from '../xml/xml-writer.ts';
import { DEFAULT_HTML_TEMPLATE, type HtmlTemplate } from './viewer-template.ts';

const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;
const IMAGE_TYPES = /^image\/(png|jpeg|gif|webp|svg\+xml|bmp)$/;

/** JSON that cannot end the <script> element it sits in, nor open a comment or CDATA section. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function renderHtmlTemplate(template: HtmlTemplate, input: { title: string; data: unknown }): string {
  if (!SEMVER.test(template.version))
    throw new FormatError('invalid_file', `HTML template version ${template.version} is not semver`);
  const values: Record<string, string> = {
    TITLE: escapeXmlText(input.title),
    MAP_JSON: scriptSafeJson(input.data),
    TEMPLATE_ID: escapeXmlText(template.id),
    TEMPLATE_VERSION: escapeXmlText(template.version),
  };
  // One pass, so a value can never be re-scanned for placeholders.
  return template.html.replace(/\{\{([A-Z_]+)\}\}/g, (whole, name: string) => values[name] ?? whole);
}

export function exportHtml(
  document: MapDocument,
  options: ExportOptions & { template?: HtmlTemplate } = {},
): ExportResult {
  const resolve = blobResolver(options);
  const images: Record<string, string> = {};
  const warnings = new Set<string>();
  const clean = structuredClone(document);
  forEachTopic(clean, (topic: Topic) => {
    if (topic.notesHtml) topic.notesHtml = sanitizeNotesHtml(topic.notesHtml);
    if (topic.image && !images[topic.image.ref]) {
      const blob = resolve(topic.image.ref);
      if (blob && IMAGE_TYPES.test(blob.mimeType))
        images[topic.image.ref] = `data:${blob.mimeType};base64,${toBase64(blob.data)}`;
      else warnings.add('images whose bytes were not supplied or are not web images dropped');
    }
    if (topic.attachments?.length)
      warnings.add('attachments listed by name only (their files are not embedded)');
  });
  const template = options.template ?? DEFAULT_HTML_TEMPLATE;
  const html = renderHtmlTemplate(template, {
    title: document.title,
    data: { document: clean, images, template: { id: template.id, version: template.version } },
  });
  return { data: utf8.encode(html), mimeType: 'text/html', extension: 'html', warnings: [...warnings] };
}
