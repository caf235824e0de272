/**
 * A ZIP reader for untrusted files. The central directory is read and checked (entry count, names, declared sizes,
 * encryption flags) before anything is inflated; inflation then stops as soon as an entry grows past its declared
 * size or the limits, so a zip bomb costs at most one inflate chunk more than the limit.
 */
import { Inflate } from 'fflate';
import { FormatError } from '../errors.ts';
import type { ImportLimits } from '../limits.ts';

export interface ZipEntry {
  name: string;
  method: number;
  encrypted: boolean;
  compressedSize: number;
  declaredSize: number;
  localHeaderOffset: number;
}

export interface ZipArchive {
  entries: Map<string, ZipEntry>;
  /** Inflates one entry; every call counts against the archive's total inflated budget. */
  read(name: string): Uint8Array | undefined;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const INFLATE_CHUNK = 16 * 1024;

export function isZip(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04
  );
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function findEndOfCentralDirectory(bytes: Uint8Array, dv: DataView): number {
  const earliest = Math.max(0, bytes.length - 22 - 0xffff);
  for (let i = bytes.length - 22; i >= earliest; i--) {
    if (dv.getUint32(i, true) === EOCD_SIGNATURE) return i;
  }
  throw new FormatError('invalid_file', 'not a ZIP archive (no end of central directory)');
}

/** Entry names are used as lookup keys only, but a name that could escape a folder is a sign of a hostile file. */
export function checkEntryName(name: string): void {
  const bad =
    name.length === 0 ||
    name.includes('\0') ||
    name.includes('\\') ||
    name.startsWith('/') ||
    /^[a-zA-Z]:/.test(name) ||
    name.split('/').some((segment) => segment === '..');
  if (bad)
    throw new FormatError(
      'zip_path_traversal',
      `unsafe ZIP entry name: ${JSON.stringify(name.slice(0, 200))}`,
    );
}

export function openZip(bytes: Uint8Array, limits: ImportLimits): ZipArchive {
  const dv = view(bytes);
  if (bytes.length < 22) throw new FormatError('invalid_file', 'ZIP archive truncated');
  const eocd = findEndOfCentralDirectory(bytes, dv);
  const count = dv.getUint16(eocd + 10, true);
  const cdSize = dv.getUint32(eocd + 12, true);
  const cdOffset = dv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdOffset === 0xffffffff)
    throw new FormatError('invalid_file', 'ZIP64 archives are not supported');
  if (count > limits.maxZipEntries) {
    throw new FormatError(
      'too_many_entries',
      `ZIP archive has ${count} entries (limit ${limits.maxZipEntries})`,
    );
  }
  if (cdOffset + cdSize > eocd) throw new FormatError('invalid_file', 'ZIP central directory out of bounds');

  const decoder = new TextDecoder('utf-8', { fatal: false });
  const entries = new Map<string, ZipEntry>();
  let declaredTotal = 0;
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > eocd || dv.getUint32(p, true) !== CENTRAL_SIGNATURE) {
      throw new FormatError('invalid_file', 'ZIP central directory is corrupt');
    }
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    const compressedSize = dv.getUint32(p + 20, true);
    const declaredSize = dv.getUint32(p + 24, true);
    const nameLength = dv.getUint16(p + 28, true);
    const extraLength = dv.getUint16(p + 30, true);
    const commentLength = dv.getUint16(p + 32, true);
    const localHeaderOffset = dv.getUint32(p + 42, true);
    if (p + 46 + nameLength > eocd) throw new FormatError('invalid_file', 'ZIP central directory is corrupt');
    const name = decoder.decode(bytes.subarray(p + 46, p + 46 + nameLength));
    p += 46 + nameLength + extraLength + commentLength;
    checkEntryName(name);
    if (entries.has(name))
      throw new FormatError('invalid_file', `duplicate ZIP entry ${JSON.stringify(name)}`);
    if (declaredSize > limits.maxEntryBytes) {
      throw new FormatError(
        'zip_bomb',
        `ZIP entry ${JSON.stringify(name)} declares ${declaredSize} bytes (limit ${limits.maxEntryBytes})`,
      );
    }
    declaredTotal += declaredSize;
    if (declaredTotal > limits.maxTotalInflatedBytes) {
      throw new FormatError(
        'zip_bomb',
        `ZIP entries declare more than ${limits.maxTotalInflatedBytes} bytes in total`,
      );
    }
    entries.set(name, {
      name,
      method,
      encrypted: (flags & 1) === 1,
      compressedSize,
      declaredSize,
      localHeaderOffset,
    });
  }

  let inflatedTotal = 0;
  const read = (name: string): Uint8Array | undefined => {
    const entry = entries.get(name);
    if (!entry) return undefined;
    if (entry.encrypted)
      throw new FormatError('password_protected', `ZIP entry ${JSON.stringify(name)} is encrypted`);
    const lo = entry.localHeaderOffset;
    if (lo + 30 > bytes.length || dv.getUint32(lo, true) !== LOCAL_SIGNATURE) {
      throw new FormatError('invalid_file', `ZIP local header of ${JSON.stringify(name)} is corrupt`);
    }
    const start = lo + 30 + dv.getUint16(lo + 26, true) + dv.getUint16(lo + 28, true);
    const end = start + entry.compressedSize;
    if (end > bytes.length)
      throw new FormatError('invalid_file', `ZIP entry ${JSON.stringify(name)} is truncated`);
    const raw = bytes.subarray(start, end);
    const data = inflateEntry(entry, raw, limits.maxTotalInflatedBytes - inflatedTotal);
    inflatedTotal += data.length;
    return data;
  };
  return { entries, read };
}

function inflateEntry(entry: ZipEntry, raw: Uint8Array, budget: number): Uint8Array {
  const limit = Math.min(entry.declaredSize, budget);
  if (entry.method === 0) {
    if (raw.length !== entry.declaredSize)
      throw new FormatError('invalid_file', `stored entry ${entry.name} has the wrong size`);
    if (raw.length > budget) throw new FormatError('zip_bomb', 'ZIP archive inflates past the limit');
    return raw;
  }
  if (entry.method !== 8) {
    throw new FormatError(
      'invalid_file',
      `ZIP entry ${entry.name} uses unsupported compression method ${entry.method}`,
    );
  }
  const out = new Uint8Array(limit);
  let written = 0;
  let overflow = false;
  const inflater = new Inflate((chunk) => {
    if (written + chunk.length > limit) {
      overflow = true;
      return;
    }
    out.set(chunk, written);
    written += chunk.length;
  });
  try {
    for (let offset = 0; offset < raw.length && !overflow; offset += INFLATE_CHUNK) {
      const final = offset + INFLATE_CHUNK >= raw.length;
      inflater.push(raw.subarray(offset, offset + INFLATE_CHUNK), final);
    }
    if (raw.length === 0) inflater.push(raw, true);
  } catch (error) {
    if (overflow)
      throw new FormatError('zip_bomb', `ZIP entry ${entry.name} inflates past its declared size`);
    throw new FormatError('invalid_file', `ZIP entry ${entry.name} is corrupt`, { cause: error });
  }
  if (overflow) {
    throw new FormatError('zip_bomb', `ZIP entry ${entry.name} inflates past its declared size or the limit`);
  }
  if (written !== entry.declaredSize) {
    throw new FormatError(
      'invalid_file',
      `ZIP entry ${entry.name} inflates to ${written} bytes, ${entry.declaredSize} declared`,
    );
  }
  return out;
}
