/**
 * A map's images and attachments in the platform blob store (sealed with the tenant's data key, re-sealed by
 * tenant key rotation). One blob per content address: key `maps/<mapId>/<sha256 hex>`, the document refers to
 * it as `sha256:<hex>` (packages/formats' `BlobRef.ref`); its MIME type and size live in the document's ref.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { MapDocument, Topic } from '@canopy/model';
import { AppError } from '../../platform/errors.ts';
import type { BlobStore } from '../../platform/blobs/index.ts';

export interface MapBlobLimits {
  /** Largest single image or attachment. Default 25 MiB. */
  maxBlobBytes: number;
  /** Largest sum of one imported file's images and attachments. Default 100 MiB. */
  maxImportBlobBytes: number;
  /**
   * Most bytes of images and attachments all of a tenant's maps may hold (`CANOPY_BLOB_QUOTA_MIB`); 0 for no
   * limit. Default 10 GiB.
   */
  tenantQuotaBytes: number;
}

export const DEFAULT_MAP_BLOB_LIMITS: MapBlobLimits = {
  maxBlobBytes: 25 * 1024 * 1024,
  maxImportBlobBytes: 100 * 1024 * 1024,
  tenantQuotaBytes: 10 * 1024 * 1024 * 1024,
};

export interface BlobContent {
  data: Uint8Array;
  mimeType: string;
}

const REF = /^sha256:([0-9a-f]{64})$/;

export const blobsTooLarge = (detail: string) => new AppError(413, 'map_blobs_too_large', detail);

/** "12.5 MiB": bytes as people read them. */
export function sizeText(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/**
 * 413 `blob_quota_exceeded` when adding `adding` bytes to the `used` bytes a tenant's maps hold would take it
 * past `quota` (0: no quota). Concurrent uploads may each pass the check: the quota can be passed by what is
 * uploaded at the same moment, never more.
 */
export function checkBlobQuota(used: number, adding: number, quota: number): void {
  if (quota <= 0 || used + adding <= quota) return;
  throw new AppError(
    413,
    'blob_quota_exceeded',
    `Your organisation's maps hold ${sizeText(used)} of images and attachments and may hold ${sizeText(quota)}; ` +
      `this adds ${sizeText(adding)}. Remove images or attachments nobody needs (they are deleted 30 days ` +
      'after no map uses them), or ask your administrator to raise the limit.',
  );
}

/** The hex digest of a `sha256:<hex>` ref, or undefined for any other ref. */
export function refHex(ref: string): string | undefined {
  return REF.exec(ref)?.[1];
}

const mapPrefix = (mapId: string) => `maps/${mapId}/`;

/**
 * The id of a map created by an import: a UUIDv7 (RFC 9562), whose first 48 bits are the creation time in ms.
 * Its blobs are written before its row, so the orphan sweep reads from the id how old such blobs are.
 */
export function newImportMapId(nowMs: number): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(nowMs, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The creation time of a UUIDv7 map id, or undefined for any other id. */
export function importMapIdTime(mapId: string): number | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(mapId)) return undefined;
  return parseInt(mapId.slice(0, 8) + mapId.slice(9, 13), 16);
}

/** How long an import may take between storing its blobs and writing its map row. */
export const IMPORT_GRACE_MS = 60 * 60_000;

/**
 * How long a live map's blob stays stored once nothing of the map uses it (its document, its versions): an undo
 * in a client, or a copy of a topic, can bring the ref back meanwhile.
 */
export const UNUSED_BLOB_GRACE_MS = 30 * 24 * 3_600_000;

/** The digest a blob's key ends with (`maps/<mapId>/<hex>`). */
export const keyHex = (key: string) => key.slice(key.lastIndexOf('/') + 1);

/** Every BlobRef of the document (topic images and attachments, floating and summary topics included). */
export interface RefUse {
  mimeType?: string;
  size?: number;
  /** The file name, when the first use of the ref is an attachment. */
  name?: string;
}

export function blobRefsOf(document: MapDocument): Map<string, RefUse> {
  const refs = new Map<string, RefUse>();
  const add = (r: { ref: string; mimeType?: string; size?: number; name?: string }) => {
    if (!refs.has(r.ref))
      refs.set(r.ref, {
        ...(r.mimeType !== undefined ? { mimeType: r.mimeType } : {}),
        ...(r.size !== undefined ? { size: r.size } : {}),
        ...(r.name !== undefined ? { name: r.name } : {}),
      });
  };
  const stack: Topic[] = [document.root, ...document.floating];
  for (let topic = stack.pop(); topic; topic = stack.pop()) {
    if (topic.image) add(topic.image);
    for (const a of topic.attachments ?? []) add(a);
    stack.push(...topic.children);
    for (const s of topic.summaries ?? []) stack.push(s.topic);
  }
  return refs;
}

export class MapBlobs {
  readonly limits: MapBlobLimits;

  constructor(
    private readonly store: BlobStore,
    limits: Partial<MapBlobLimits> = {},
  ) {
    this.limits = { ...DEFAULT_MAP_BLOB_LIMITS, ...limits };
  }

  private key(mapId: string, ref: string): string | undefined {
    const hex = refHex(ref);
    return hex ? `${mapPrefix(mapId)}${hex}` : undefined;
  }

  /**
   * Checks an imported file's blobs against the limits (413 `map_blobs_too_large`, nothing stored) and their
   * content addresses; returns those to keep and how many were dropped because the ref is not the SHA-256 of
   * the bytes (only a hand-made Canopy JSON file can say so).
   */
  check(blobs: ReadonlyMap<string, BlobContent>): { keep: Map<string, BlobContent>; mismatched: number } {
    let total = 0;
    for (const [ref, blob] of blobs) {
      if (blob.data.length > this.limits.maxBlobBytes)
        throw blobsTooLarge(
          `The file's blob ${ref.slice(0, 20)}… is ${blob.data.length} bytes; one image or attachment may have at most ${this.limits.maxBlobBytes}.`,
        );
      total += blob.data.length;
    }
    if (total > this.limits.maxImportBlobBytes)
      throw blobsTooLarge(
        `The file's images and attachments add up to ${total} bytes; at most ${this.limits.maxImportBlobBytes} can be imported.`,
      );
    const keep = new Map<string, BlobContent>();
    let mismatched = 0;
    for (const [ref, blob] of blobs) {
      const hex = refHex(ref);
      if (hex && createHash('sha256').update(blob.data).digest('hex') === hex) keep.set(ref, blob);
      else mismatched++;
    }
    return { keep, mismatched };
  }

  /** Stores the blobs of a new map; on any failure deletes those already stored and rethrows. */
  async storeAll(tenantId: string, mapId: string, blobs: ReadonlyMap<string, BlobContent>): Promise<void> {
    const stored: string[] = [];
    try {
      for (const [ref, blob] of blobs) {
        const key = this.key(mapId, ref);
        if (!key) continue;
        await this.store.put(tenantId, key, blob.data, { maxBytes: this.limits.maxBlobBytes });
        stored.push(key);
      }
    } catch (err) {
      await this.deleteKeys(tenantId, stored).catch(() => 0);
      throw err;
    }
  }

  /** Whether the map holds a blob under this ref. */
  async has(tenantId: string, mapId: string, ref: string): Promise<boolean> {
    const key = this.key(mapId, ref);
    return key !== undefined && (await this.store.exists(tenantId, key));
  }

  /** The blob's bytes, or undefined when the map holds no blob under this ref (one read, no separate look). */
  async read(tenantId: string, mapId: string, ref: string): Promise<Buffer | undefined> {
    const key = this.key(mapId, ref);
    if (!key) return undefined;
    try {
      return await this.store.getBuffer(tenantId, key);
    } catch (err) {
      if (err instanceof AppError && err.status === 404) return undefined;
      throw err;
    }
  }

  /**
   * The plaintext size of a map's blob (by digest), read in full (the daily sweep, for a blob whose size was not
   * noted: rare, at most 25 MiB); undefined when the map holds no such blob.
   */
  async size(tenantId: string, mapId: string, hex: string): Promise<number | undefined> {
    return (await this.read(tenantId, mapId, `sha256:${hex}`))?.length;
  }

  /** The stored blobs the document refers to, for an exporter (`exportMap(..., { blobs })`). */
  async forDocument(
    tenantId: string,
    mapId: string,
    document: MapDocument,
  ): Promise<Map<string, BlobContent>> {
    const out = new Map<string, BlobContent>();
    for (const [ref, meta] of blobRefsOf(document)) {
      const data = await this.read(tenantId, mapId, ref);
      if (data) out.set(ref, { data, mimeType: meta.mimeType ?? 'application/octet-stream' });
    }
    return out;
  }

  /** Keys of a map's blobs (tests and the deletion path). */
  async list(tenantId: string, mapId: string): Promise<string[]> {
    return this.store.list(tenantId, mapPrefix(mapId));
  }

  /** This tenant's map blobs, by map id (one listing of the store). */
  async byMap(tenantId: string): Promise<Map<string, string[]>> {
    const byMap = new Map<string, string[]>();
    for (const key of await this.store.list(tenantId, 'maps/')) {
      const mapId = key.split('/')[1];
      if (!mapId) continue;
      const keys = byMap.get(mapId);
      if (keys) keys.push(key);
      else byMap.set(mapId, [key]);
    }
    return byMap;
  }

  /**
   * Deletes the blobs of maps that do not exist (an import that died between its blobs and its row, a deletion
   * that failed after the rows). `existing` says which of the given map ids have a row. Blobs of an import
   * younger than `IMPORT_GRACE_MS` (its id is a UUIDv7) are left alone: its row may be on its way. Every other
   * map gets blobs only from an import, so a map id without a row and without a recent import is garbage.
   * `byMap`: the listing, when the caller has it.
   */
  async sweep(
    tenantId: string,
    existing: (mapIds: string[]) => Promise<Set<string>>,
    nowMs: number,
    byMap?: Map<string, string[]>,
  ): Promise<{ maps: number; blobs: number }> {
    byMap ??= await this.byMap(tenantId);
    if (byMap.size === 0) return { maps: 0, blobs: 0 };
    const live = await existing([...byMap.keys()]);
    let maps = 0;
    let blobs = 0;
    for (const [mapId, keys] of byMap) {
      if (live.has(mapId)) continue;
      const createdAt = importMapIdTime(mapId);
      if (createdAt !== undefined && nowMs - createdAt < IMPORT_GRACE_MS) continue;
      maps++;
      blobs += await this.deleteKeys(tenantId, keys);
    }
    return { maps, blobs };
  }

  /** Deletes these blobs of a map (by digest); returns how many were there. */
  async deleteUnused(tenantId: string, mapId: string, hexes: readonly string[]): Promise<number> {
    return this.deleteKeys(
      tenantId,
      hexes.map((hex) => `${mapPrefix(mapId)}${hex}`),
    );
  }

  /** Deletes every blob of a map; returns how many. */
  async deleteMap(tenantId: string, mapId: string): Promise<number> {
    return this.deleteKeys(tenantId, await this.list(tenantId, mapId));
  }

  private async deleteKeys(tenantId: string, keys: string[]): Promise<number> {
    let n = 0;
    for (const key of keys) if (await this.store.delete(tenantId, key)) n++;
    return n;
  }
}
