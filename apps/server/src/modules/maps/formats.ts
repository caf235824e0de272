/**
 * Import and export. The file formats live in packages/formats (`importMap`/`exportMap`), which this port has
 * the shape of; until it is wired, the server speaks the document JSON contract only.
 */
import { MindMap, type MapDocument } from '@canopy/model';
import { documentInvalid, unsupportedFormat } from './errors.ts';

export const EXPORT_FORMATS = ['mmap', 'xmind', 'mm', 'opml', 'md', 'json', 'html'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface MapFormats {
  importMap(
    bytes: Uint8Array,
    options: { filename?: string; mimeType?: string },
  ): { document: MapDocument; warnings: string[] };
  exportMap(
    document: MapDocument,
    format: ExportFormat,
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
      return { document: MindMap.fromJSON(parsed as MapDocument).toJSON(), warnings: [] };
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
