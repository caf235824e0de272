import { FormatError } from './errors.ts';
import type { ImportFormat } from './types.ts';
import { DEFAULT_LIMITS, type ImportLimits } from './limits.ts';
import { isZip, openZip } from './zip/safe-unzip.ts';

const BY_EXTENSION: Record<string, ImportFormat> = {
  mmap: 'mmap',
  xmind: 'xmind',
  mm: 'mm',
  opml: 'opml',
  md: 'md',
  markdown: 'md',
  json: 'json',
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
export function detectFormat(
  bytes: Uint8Array,
  filename?: string,
  mimeType?: string,
  limits: ImportLimits = DEFAULT_LIMITS,
): ImportFormat {
  const ext = /\.([a-z0-9]+)$/i.exec(filename ?? '')?.[1]?.toLowerCase() ?? '';
  const hinted = BY_EXTENSION[ext] ?? BY_MIME[(mimeType ?? '').split(';')[0]!.trim().toLowerCase()];
  if (isZip(bytes)) {
    // Entry names come from the central directory (read and checked, nothing inflated).
    const names = [...openZip(bytes, limits).entries.keys()].map((n) => n.toLowerCase());
    const mmap = names.includes('document.xml');
    const xmind = names.includes('content.json') || names.includes('content.xml');
    if (mmap && (!xmind || hinted !== 'xmind')) return 'mmap';
    if (xmind) return 'xmind';
    // Named as one of ours but missing its content: let that importer say what is wrong with it.
    if (hinted === 'mmap' || hinted === 'xmind') return hinted;
    throw new FormatError('unsupported_format', 'ZIP archive that is neither .mmap nor .xmind');
  }
  const start = new TextDecoder('utf-8')
    .decode(bytes.subarray(0, 4096))
    .replace(/^\ufeff/, '')
    .trimStart();
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
