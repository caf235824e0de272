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
    throw new FormatError('invalid_file', `not a Canopy map document${first ? `: ${first.path || '/'} ${first.message}` : ''}`);
  }
  const { canopyBlobs, ...rest } = parsed as MapDocument & { canopyBlobs?: unknown };
  const document: MapDocument = structuredClone(rest);
  const builder = new DocumentBuilder(limits);
  forEachTopic(document, (topic, depth) => {
    builder.topic(depth, topic.id, topic.text);
    if (topic.notesHtml !== undefined) topic.notesHtml = sanitizeNotesHtml(topic.notesHtml);
  });
  const blobs = new BlobCollector();
  for (const [ref, value] of Object.entries(asObject(canopyBlobs) ?? {})) {
    const entry = asObject(value);
    const data = fromBase64(asString(entry?.data) ?? '');
    if (!data) {
      builder.warn('undecodable embedded blobs dropped');
      continue;
    }
    const added = blobs.add(data, asString(entry?.mimeType) ?? 'application/octet-stream');
    if (added.ref !== ref) builder.warn('embedded blobs whose content does not match their reference kept under their content hash');
  }
  return { document, blobs: blobs.blobs, warnings: builder.warnings };
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
  return { data: utf8.encode(JSON.stringify(out, null, 2)), mimeType: 'application/json', extension: 'json', warnings: [...warnings] };
}
