/**
 * Canopy JSON: the MapDocument itself, validated against the model's TypeBox schema, plus an optional
 * `canopyBlobs` member with the images and attachments in base64 (additional members are allowed by the schema).
 */
import { MapDocumentSchema, type MapDocument } from '@canopy/model';
import { Value } from '@sinclair/typebox/value';
import { FormatError } from '../errors.ts';
import { maxMarkupDepth, type ImportLimits } from '../limits.ts';
import { sanitizeNotesHtml } from '../notes/notes-sanitizer.ts';
import { blobResolver, BlobCollector } from '../shared/blobs.ts';
import { fromBase64, toBase64, utf8 } from '../shared/bytes.ts';
import { DocumentBuilder, forEachTopic } from '../shared/document-builder.ts';
import { asObject, asString, parseJson } from '../shared/json-guards.ts';
import type { ExportOptions, ExportResult, ImportResult } from '../types.ts';

export function importCanopyJson(bytes: Uint8Array, limits: ImportLimits): ImportResult {
  const parsed = parseJson(utf8.decode(bytes), maxMarkupDepth(limits), 'Canopy JSON');
  if (!Value.Check(MapDocumentSchema, parsed)) {
    const first = Value.Errors(MapDocumentSchema, parsed).First();
    throw new FormatError(
      'invalid_file',
      `not a Canopy map document${first ? `: ${first.path || '/'} ${first.message}` : ''}`,
    );
  }
  const { canopyBlobs, ...rest } = parsed as MapDocument & { canopyBlobs?: unknown };
  const document: MapDocument = structuredClone(rest);
  const builder = new DocumentBuilder(limits);
  forEachTopic(document, (topic, depth) => {
    topic.id = builder.topic(depth, topic.id, topic.text).id;
    if (topic.notesHtml !== undefined) topic.notesHtml = sanitizeNotesHtml(topic.notesHtml);
  });
  enforceInvariants(document, builder);
  const blobs = new BlobCollector();
  for (const [ref, value] of Object.entries(asObject(canopyBlobs) ?? {})) {
    const entry = asObject(value);
    const data = fromBase64(asString(entry?.data) ?? '');
    if (!data) {
      builder.warn('undecodable embedded blobs dropped');
      continue;
    }
    const added = blobs.add(data, asString(entry?.mimeType) ?? 'application/octet-stream');
    if (added.ref !== ref)
      builder.warn(
        'embedded blobs whose content does not match their reference kept under their content hash',
      );
  }
  return { document, blobs: blobs.blobs, warnings: builder.warnings };
}

/**
 * The schema checks shapes; these are the document's cross-field rules (model: ids unique, references resolve,
 * ranges inside the children, rich runs spell the text). Whatever breaks them is dropped and reported.
 */
function enforceInvariants(document: MapDocument, builder: DocumentBuilder): void {
  const topicIds = new Set<string>();
  forEachTopic(document, (topic) => void topicIds.add(topic.id));
  const fixRanges = <T extends { id: string; range: { from: number; to: number } }>(
    items: T[] | undefined,
    count: number,
    what: string,
  ): T[] | undefined => {
    if (!items) return undefined;
    const kept = items.filter((item) => {
      const ok = item.range.from <= item.range.to && item.range.to < count;
      if (!ok) builder.warn(`${what} outside their topic's children dropped`);
      return ok;
    });
    for (const item of kept) item.id = builder.claimId(item.id);
    return kept.length ? kept : undefined;
  };
  forEachTopic(document, (topic) => {
    if (topic.richText && topic.richText.map((r) => r.text).join('') !== topic.text) {
      delete topic.richText;
      builder.warn('rich text whose runs do not spell the topic text dropped');
    }
    if (topic.links) {
      const links = topic.links.filter((l) => l.kind === 'url' || topicIds.has(l.topicId));
      if (links.length !== topic.links.length) builder.warn('topic links to missing topics dropped');
      if (links.length) topic.links = links;
      else delete topic.links;
    }
    const boundaries = fixRanges(topic.boundaries, topic.children.length, 'boundaries');
    if (boundaries) topic.boundaries = boundaries;
    else delete topic.boundaries;
    const summaries = fixRanges(topic.summaries, topic.children.length, 'summaries');
    if (summaries) topic.summaries = summaries;
    else delete topic.summaries;
  });
  document.relationships = document.relationships.filter((r) => {
    const ok = topicIds.has(r.fromId) && topicIds.has(r.toId);
    if (!ok) builder.warn('relationships to missing topics dropped');
    else r.id = builder.claimId(r.id);
    return ok;
  });
}

export function exportCanopyJson(document: MapDocument, options: ExportOptions): ExportResult {
  const resolve = blobResolver(options);
  const canopyBlobs: Record<string, { mimeType: string; data: string }> = {};
  const warnings = new Set<string>();
  forEachTopic(document, (topic) => {
    for (const ref of [topic.image, ...(topic.attachments ?? [])]) {
      if (!ref || canopyBlobs[ref.ref]) continue;
      const blob = resolve(ref.ref);
      if (blob) canopyBlobs[ref.ref] = { mimeType: blob.mimeType, data: toBase64(blob.data) };
      else warnings.add('images and attachments whose bytes were not supplied kept as references only');
    }
  });
  const out = Object.keys(canopyBlobs).length ? { ...document, canopyBlobs } : document;
  return {
    data: utf8.encode(JSON.stringify(out, null, 2)),
    mimeType: 'application/json',
    extension: 'json',
    warnings: [...warnings],
  };
}
