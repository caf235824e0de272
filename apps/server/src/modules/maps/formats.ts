/**
 * Import and export through packages/formats (`importMap`/`exportMap`); the port lets tests (and embedders)
 * swap it. Format errors keep their stable codes as problem codes.
 */
import { exportMap, importMap, isFormatError } from '@canopy/formats';
import { MindMap, type MapDocument } from '@canopy/model';
import { AppError } from '../../platform/errors.ts';
import type { BlobContent } from './blobs.ts';
import { documentInvalid, unsupportedFormat } from './errors.ts';

export const EXPORT_FORMATS = ['mmap', 'xmind', 'mm', 'opml', 'md', 'json', 'html'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface MapFormats {
  /** `blobs`: the file's images and attachments, keyed by the `ref` the document uses (`sha256:<hex>`). */
  importMap(
    bytes: Uint8Array,
    options: { filename?: string; mimeType?: string },
  ): { document: MapDocument; blobs?: ReadonlyMap<string, BlobContent>; warnings: string[] };
  exportMap(
    document: MapDocument,
    format: ExportFormat,
    options?: { blobs?: ReadonlyMap<string, BlobContent> },
  ): { data: Uint8Array; mimeType: string; extension: string; warnings: string[] };
}

export const jsonOnlyFormats: MapFormats = {
  importMap(bytes, options) {
    const looksJson =
      (options.filename ?? '').toLowerCase().endsWith('.json') || (options.mimeType ?? '').includes('json');
    if (!looksJson)
      throw unsupportedFormat(options.filename?.split('.').pop() ?? options.mimeType ?? 'this type');
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      throw documentInvalid('The file is not valid JSON.');
    }
    try {
      // fromJSON validates against the document contract and the limits.
      const map = MindMap.fromJSON(parsed as MapDocument);
      try {
        return { document: map.toJSON(), warnings: [] };
      } finally {
        map.free();
      }
    } catch (err) {
      throw documentInvalid(err instanceof Error ? err.message : String(err));
    }
  },
  exportMap(document, format) {
    if (format !== 'json') throw unsupportedFormat(format);
    return {
      data: new TextEncoder().encode(JSON.stringify(document, null, 2)),
      mimeType: 'application/json',
      extension: 'json',
      warnings: [],
    };
  },
};

const FORMAT_STATUS: Record<string, number> = {
  unsupported_format: 415,
  too_large: 413,
  password_protected: 422,
};

function asProblem(err: unknown): unknown {
  if (!isFormatError(err)) return err;
  return new AppError(FORMAT_STATUS[err.code] ?? 422, err.code, err.message);
}

/** packages/formats: .mmap, .xmind, .mm, .opml, .md, .json in; the same plus self-contained HTML out. */
export const packageFormats: MapFormats = {
  importMap(bytes, options) {
    try {
      // Images and attachments come back as `blobs`; the service stores them with the map.
      return importMap(bytes, options);
    } catch (err) {
      throw asProblem(err);
    }
  },
  exportMap(document, format, options = {}) {
    try {
      return exportMap(document, format, options.blobs ? { blobs: options.blobs } : {});
    } catch (err) {
      throw asProblem(err);
    }
  },
};
