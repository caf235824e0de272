import type { MapDocument } from '@canopy/model';
import type { ImportLimits } from './limits.ts';
import type { BlobData, BlobResolver } from './shared/blobs.ts';

export const FORMATS = ['mmap', 'xmind', 'mm', 'opml', 'md', 'json', 'html'] as const;
export type MapFormat = (typeof FORMATS)[number];
export type ImportFormat = Exclude<MapFormat, 'html'>;

export interface ImportOptions {
  filename?: string;
  mimeType?: string;
  /** Skips detection. */
  format?: ImportFormat;
  limits?: Partial<ImportLimits>;
}

export interface ImportResult {
  document: MapDocument;
  /** Images and attachments found in the file, keyed by the `ref` the document uses (`sha256:<hex>`). */
  blobs: Map<string, BlobData>;
  /** What the importer dropped or changed, one line each. */
  warnings: string[];
}

export interface ExportOptions {
  blobs?: ReadonlyMap<string, BlobData>;
  resolveBlob?: BlobResolver;
}

export interface ExportResult {
  data: Uint8Array;
  mimeType: string;
  extension: string;
  /** What the target format cannot hold and was dropped, one line each. */
  warnings: string[];
}

export type { BlobData, BlobResolver };
