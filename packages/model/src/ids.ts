/**
 * Ids of topics, relationships, boundaries and summaries. They are random (122 bits, UUID v4 shape), so two
 * replicas never mint the same one, and they are stored in the document, so every replica shows the same id.
 * `getRandomValues` is used rather than `randomUUID` because browsers offer the latter only on secure origins.
 */
export type IdFactory = () => string;

export const randomId: IdFactory = () => {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};
