/**
 * @canopy/formats: converts mind-map files to and from the model's plain-JSON MapDocument. Pure: no I/O.
 * Every failure is a FormatError with a stable `code`; every conversion reports what it dropped.
 */
import type { MapDocument } from '@canopy/model';
import { asInvalidFile, FormatError } from './errors.ts';
import { detectFormat } from './detect.ts';
import { resolveLimits } from './limits.ts';
import { importMmap } from './mmap/mmap-import.ts';
import { exportMmap } from './mmap/mmap-export.ts';
import { exportXmind } from './xmind/xmind-export.ts';
import { exportFreemind, importFreemind } from './freemind/freemind.ts';
import { exportOpml, importOpml } from './opml/opml.ts';
import { exportMarkdown, importMarkdown } from './markdown/markdown-outline.ts';
import { exportCanopyJson, importCanopyJson } from './json/canopy-json.ts';
import { exportHtml } from './html/html-export.ts';
import { importXmind } from './xmind/xmind-import.ts';
import type { ExportOptions, ExportResult, ImportOptions, ImportResult, MapFormat } from './types.ts';

export { FormatError, FORMAT_ERROR_CODES, isFormatError, type FormatErrorCode } from './errors.ts';
export { DEFAULT_LIMITS, type ImportLimits } from './limits.ts';
export { detectFormat } from './detect.ts';
export { sanitizeNotesHtml } from './notes/notes-sanitizer.ts';
export * from './types.ts';

export function importMap(bytes: Uint8Array, options: ImportOptions = {}): ImportResult {
  const limits = resolveLimits(options.limits);
  if (bytes.length > limits.maxInputBytes) {
    throw new FormatError('too_large', `file is ${bytes.length} bytes (limit ${limits.maxInputBytes})`);
  }
  return asInvalidFile(options.format ?? 'file', () => {
    const format = options.format ?? detectFormat(bytes, options.filename, options.mimeType, limits);
    switch (format) {
      case 'mmap':
        return importMmap(bytes, limits, options.filename);
      case 'xmind':
        return importXmind(bytes, limits, options.filename);
      case 'mm':
        return importFreemind(bytes, limits, options.filename);
      case 'opml':
        return importOpml(bytes, limits, options.filename);
      case 'md':
        return importMarkdown(bytes, limits, options.filename);
      case 'json':
        return importCanopyJson(bytes, limits);
      default:
        throw new FormatError('unsupported_format', `import of this format is not available`);
    }
  });
}

export function exportMap(
  document: MapDocument,
  format: MapFormat,
  options: ExportOptions = {},
): ExportResult {
  switch (format) {
    case 'mmap':
      return exportMmap(document, options);
    case 'xmind':
      return exportXmind(document, options);
    case 'mm':
      return exportFreemind(document);
    case 'opml':
      return exportOpml(document);
    case 'md':
      return exportMarkdown(document);
    case 'json':
      return exportCanopyJson(document, options);
    case 'html':
      return exportHtml(document, options);
    default: {
      const name: string = format;
      throw new FormatError('unsupported_format', `export to ${name} is not available`);
    }
  }
}
