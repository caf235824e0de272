import { FormatError } from './errors.ts';
import type { ImportFormat } from './types.ts';
import { isZip } from './zip/safe-unzip.ts';

const BY_EXTENSION: Record<string, ImportFormat> = {
  mmap: 'mmap', xmind: 'xmind', mm: 'mm', opml: 'opml', md: 'md', markdown: 'md', json: 'json',
};
const BY_MIME: Record<string, ImportFormat> = {
  'application/vnd.mindjet.mindmanager': 'mmap',
  'application/vnd.xmind.workbook': 'xmind',
  'application/x-freemind': 'mm',
  'text/x-opml': 'opml',
  'text/markdown': 'md',
  'application/json': 'json',
};

/** Content first (magic bytes, root element, JSON shape); the name and MIME type only break ties. */
export function detectFormat(bytes: Uint8Array, filename?: string, mimeType?: string): ImportFormat {
  const ext = /\.([a-z0-9]+)$/i.exec(filename ?? '')?.[1]?.toLowerCase() ?? '';
  const hinted = BY_EXTENSION[ext] ?? BY_MIME[(mimeType ?? '').split(';')[0]!.trim().toLowerCase()];
  if (isZip(bytes)) {
    if (hinted === 'mmap' || hinted === 'xmind') return hinted;
    const head = new TextDecoder('latin1').decode(bytes.subarray(0, Math.min(bytes.length, 1 << 20)));
    if (head.includes('Document.xml')) return 'mmap';
    if (head.includes('content.json') || head.includes('content.xml')) return 'xmind';
    throw new FormatError('unsupported_format', 'ZIP archive that is neither .mmap nor .xmind');
  }
  const start = new TextDecoder('utf-8').decode(bytes.subarray(0, 4096)).replace(/^\ufeff/, '').trimStart();
  if (start.startsWith('{') || start.startsWith('[')) return 'json';
  if (start.startsWith('<')) {
    const body = start.replace(/^<\?xml[^>]*\?>\s*/, '').replace(/^(<!--[\s\S]*?-->\s*)+/, '');
    if (/^<map[\s>]/.test(body)) return 'mm';
    if (/^<opml[\s>]/.test(body)) return 'opml';
    if (/^<!DOCTYPE/i.test(body) && (hinted === 'mm' || hinted === 'opml')) return hinted;
    throw new FormatError('unsupported_format', 'XML that is neither FreeMind/Freeplane nor OPML');
  }
  if (hinted === 'md' || /^(#|[-*+] |\d+[.)] )/m.test(start)) return 'md';
  if (hinted) return hinted;
  throw new FormatError('unsupported_format', 'file format not recognised');
}
