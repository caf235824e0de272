/**
 * MindManager object ids (cor:UniqueId) are 16 bytes in base64. Topic links spell the same bytes as a Windows
 * GUID (`mj-map:///<file>#oid={F7CABBAD-DA83-4FF0-8BB7-C4DFB4D2077B}`): the first three groups little-endian.
 */
import { fromBase64, toBase64 } from '../shared/bytes.ts';

/** 16 bytes in canonical base64 (xsd:base64Binary): the character before `==` carries no stray bits. */
const OBJECT_ID = /^[A-Za-z0-9+/]{21}[AQgw]==$/;

export function isObjectId(value: string): boolean {
  return OBJECT_ID.test(value);
}

/**
 * A stable object id for a model id that is not one already: a 128-bit non-cryptographic hash (four multiply-xor
 * lanes). Uniqueness is not left to the hash: the exporter re-salts on the rare collision.
 */
export function objectIdFor(id: string): string {
  if (isObjectId(id)) return id;
  let h1 = 0x6a09e667;
  let h2 = 0xbb67ae85;
  let h3 = 0x3c6ef372;
  let h4 = 0xa54ff53a;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ c, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ c, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ c, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ c, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, h1 >>> 0);
  view.setUint32(4, h2 >>> 0);
  view.setUint32(8, h3 >>> 0);
  view.setUint32(12, h4 >>> 0);
  return toBase64(bytes);
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
