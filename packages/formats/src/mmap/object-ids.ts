/**
 * MindManager object ids (cor:UniqueId) are 16 bytes in base64. Topic links spell the same bytes as a Windows
 * GUID (`mj-map:///<file>#oid={F7CABBAD-DA83-4FF0-8BB7-C4DFB4D2077B}`): the first three groups little-endian.
 */
import { fromBase64, toBase64 } from '../shared/bytes.ts';
import { sha256 } from '../shared/sha256.ts';

export function isObjectId(value: string): boolean {
  return /^[A-Za-z0-9+/]{22}==$/.test(value) && fromBase64(value)?.length === 16;
}

/** A stable object id for a model id that is not one already. */
export function objectIdFor(id: string): string {
  return isObjectId(id) ? id : toBase64(sha256(new TextEncoder().encode(id)).subarray(0, 16));
}

const GUID_ORDER = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];

export function guidToObjectId(guid: string): string | undefined {
  const hex = /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i.exec(guid);
  if (!hex) return undefined;
  const flat = hex.slice(1).join('');
  const guidBytes = Array.from({ length: 16 }, (_, i) => parseInt(flat.slice(i * 2, i * 2 + 2), 16));
  return toBase64(new Uint8Array(GUID_ORDER.map((i) => guidBytes[i]!)));
}

export function objectIdToGuid(oid: string): string {
  const bytes = fromBase64(oid) ?? new Uint8Array(16);
  const ordered = GUID_ORDER.map((i) => (bytes[i] ?? 0).toString(16).padStart(2, '0').toUpperCase()).join('');
  return `{${ordered.slice(0, 8)}-${ordered.slice(8, 12)}-${ordered.slice(12, 16)}-${ordered.slice(16, 20)}-${ordered.slice(20)}}`;
}
