import { describe, expect, it } from 'vitest';
import { blobResponse, contentDisposition } from './blob-response.ts';

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]);
const WEBP = new Uint8Array([0x52, 0x49, 0x46, 0x46, 1, 2, 3, 4, 0x57, 0x45, 0x42, 0x50]);
const SVG = new TextEncoder().encode(
  '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
);

describe('how a map blob is served', () => {
  it('serves raster images inline only when their bytes match their type', () => {
    expect(blobResponse(PNG, 'image/png')).toEqual({ contentType: 'image/png', disposition: 'inline' });
    expect(blobResponse(PNG, 'IMAGE/PNG; x=y')).toEqual({ contentType: 'image/png', disposition: 'inline' });
    expect(blobResponse(WEBP, 'image/webp')).toEqual({ contentType: 'image/webp', disposition: 'inline' });
    expect(blobResponse(SVG, 'image/png')).toEqual({
      contentType: 'application/octet-stream',
      disposition: 'attachment',
    });
    expect(blobResponse(PNG, 'image/jpeg').disposition).toBe('attachment');
  });

  it('sends SVG, HTML and anything else as attachments, and malformed types as bytes', () => {
    expect(blobResponse(SVG, 'image/svg+xml')).toEqual({
      contentType: 'image/svg+xml',
      disposition: 'attachment',
    });
    expect(blobResponse(SVG, 'text/html')).toEqual({ contentType: 'text/html', disposition: 'attachment' });
    expect(blobResponse(SVG, undefined).contentType).toBe('application/octet-stream');
    expect(blobResponse(SVG, 'text/html\r\nx: y').contentType).toBe('application/octet-stream');
    expect(blobResponse(SVG, 'constructor').contentType).toBe('application/octet-stream');
  });

  it('names attachments safely', () => {
    expect(contentDisposition('inline', undefined)).toBe('inline');
    expect(contentDisposition('attachment', 'Plän "1".pdf')).toBe(
      `attachment; filename="Pl_n _1_.pdf"; filename*=UTF-8''Pl%C3%A4n%20%221%22.pdf`,
    );
    expect(contentDisposition('attachment', 'a\uD800b')).toMatch(/^attachment; filename="a_b"/);
    expect(contentDisposition('attachment', '   ')).toBe('attachment');
    expect(contentDisposition('attachment', "it's (1).txt")).toBe(
      `attachment; filename="it_s _1_.txt"; filename*=UTF-8''it%27s%20%281%29.txt`,
    );
  });
});
