/**
 * How a map's blob is served: the Content-Type its ref names (when it is a well-formed type), and inline only
 * for raster images whose first bytes match that type. SVG (which can carry script), HTML and everything else
 * go out as attachments, so a browser never renders them as a page of the API's origin.
 */

const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

const startsWith = (data: Uint8Array, bytes: number[], at = 0) =>
  data.length >= at + bytes.length && bytes.every((b, i) => data[at + i] === b);

/** Raster types served inline, each with the check of its signature. */
const RASTER = new Map<string, (data: Uint8Array) => boolean>([
  ['image/png', (d) => startsWith(d, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])],
  ['image/jpeg', (d) => startsWith(d, [0xff, 0xd8, 0xff])],
  ['image/gif', (d) => startsWith(d, [0x47, 0x49, 0x46, 0x38])],
  [
    'image/webp',
    (d) => startsWith(d, [0x52, 0x49, 0x46, 0x46]) && startsWith(d, [0x57, 0x45, 0x42, 0x50], 8),
  ],
]);

/** The type to send: the ref's, lower-cased, when well-formed; else application/octet-stream. */
export function blobContentType(mimeType: string | undefined): string {
  const type = (mimeType ?? '').split(';')[0]!.trim().toLowerCase();
  return MIME.test(type) ? type : 'application/octet-stream';
}

export function isInlineRaster(contentType: string, data: Uint8Array): boolean {
  return RASTER.get(contentType)?.(data) ?? false;
}

export function blobResponse(
  data: Uint8Array,
  mimeType: string | undefined,
): { contentType: string; disposition: 'inline' | 'attachment' } {
  const contentType = blobContentType(mimeType);
  if (isInlineRaster(contentType, data)) return { contentType, disposition: 'inline' };
  // A type that claims to be a raster image but is not one is sent as opaque bytes.
  return {
    contentType: RASTER.has(contentType) ? 'application/octet-stream' : contentType,
    disposition: 'attachment',
  };
}

/** RFC 5987 value characters: encodeURIComponent leaves ' ( ) * ! as they are; the first four are not allowed. */
const rfc5987 = (value: string) =>
  encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The Content-Disposition header: the attachment's own name when the document gives one. */
export function contentDisposition(disposition: 'inline' | 'attachment', name: string | undefined): string {
  // Whole code points (a lone surrogate cannot be percent-encoded), at most 100 of them.
  const full = Array.from((name ?? '').replace(/\p{Surrogate}/gu, '_'))
    .slice(0, 100)
    .join('');
  const ascii = full.replace(/[^\p{L}\p{N} ._-]+/gu, '_').replace(/[^\x20-\x7e]/g, '_');
  if (!full.trim()) return disposition;
  return `${disposition}; filename="${ascii}"; filename*=UTF-8''${rfc5987(full)}`;
}
