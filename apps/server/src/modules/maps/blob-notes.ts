/**
 * What the maps module notes about the maps' blobs beside the blob store (always inside a tenant scope): the
 * blobs nothing uses and since when (the daily sweep's 30 days, blob-sweep.ts), what the sweep last read of each
 * map in full, and each blob's size (the tenant's quota, blobs.ts). `MapsRepository.blobNotes` reaches them
 * inside the same transaction as the map rows; deleting a map deletes its notes.
 */
import { TenantRepository } from '../../platform/db/tenant.ts';

/** A blob the map holds and nothing of it uses, since the sweep first saw so (migration 0031). */
export interface MapBlobsUnusedTable {
  tenant_id: string;
  map_id: string;
  blob_hex: string;
  since: number;
}

export interface MapBlobChecksTable {
  tenant_id: string;
  map_id: string;
  head_seq: number;
  /** sha256 hex of the map's blob keys, sorted and joined by newlines. */
  blobs: string;
  checked_at: number;
}

/** The stored size of one of a map's blobs (migration 0033; the quota's count). */
export interface MapBlobSizesTable {
  tenant_id: string;
  map_id: string;
  blob_hex: string;
  /** The blob's plaintext bytes (what was uploaded or imported). */
  bytes: number;
}

declare module '../../platform/db/schema.ts' {
  interface Tables {
    map_blobs_unused: MapBlobsUnusedTable;
    map_blob_checks: MapBlobChecksTable;
    map_blob_sizes: MapBlobSizesTable;
  }
}

export class MapBlobNotes extends TenantRepository {
  /** The map's blobs found unused, by digest, with when that was first seen. */
  async unusedBlobs(mapId: string): Promise<Map<string, number>> {
    const rows = await this.selectFrom('map_blobs_unused')
      .select(['blob_hex', 'since'])
      .where('map_id', '=', mapId)
      .execute();
    return new Map(rows.map((r) => [r.blob_hex, Number(r.since)]));
  }

  async markBlobsUnused(mapId: string, hexes: readonly string[], since: number): Promise<void> {
    for (let i = 0; i < hexes.length; i += 200)
      await this.insertInto(
        'map_blobs_unused',
        hexes.slice(i, i + 200).map((blob_hex) => ({ map_id: mapId, blob_hex, since })),
      );
  }

  async forgetUnusedBlobs(mapId: string, hexes: readonly string[]): Promise<void> {
    for (let i = 0; i < hexes.length; i += 500)
      await this.deleteFrom('map_blobs_unused')
        .where('map_id', '=', mapId)
        .where('blob_hex', 'in', hexes.slice(i, i + 500))
        .execute();
  }

  /** The bytes of every blob the tenant's maps hold, as noted (the quota's count). */
  async tenantBlobBytes(): Promise<number> {
    const row = await this.selectFrom('map_blob_sizes')
      .select((eb) => eb.fn.sum<number | string | null>('bytes').as('total'))
      .executeTakeFirst();
    return Number(row?.total ?? 0);
  }

  /** The maps holding the most bytes of blobs, most first (each map's part of the quota's count). */
  async largestMaps(limit: number): Promise<{ mapId: string; bytes: number; blobs: number }[]> {
    const rows = await this.selectFrom('map_blob_sizes')
      .select((eb) => [
        'map_id',
        eb.fn.sum<number | string>('bytes').as('total'),
        eb.fn.countAll<number | string>().as('blobs'),
      ])
      .groupBy('map_id')
      .orderBy('total', 'desc')
      .orderBy('map_id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ mapId: r.map_id, bytes: Number(r.total), blobs: Number(r.blobs) }));
  }

  /** The noted sizes of a map's blobs, by digest. */
  async blobSizes(mapId: string): Promise<Map<string, number>> {
    const rows = await this.selectFrom('map_blob_sizes')
      .select(['blob_hex', 'bytes'])
      .where('map_id', '=', mapId)
      .execute();
    return new Map(rows.map((r) => [r.blob_hex, Number(r.bytes)]));
  }

  /** The maps with blob sizes noted. */
  async mapsWithBlobSizes(): Promise<Set<string>> {
    const rows = await this.selectFrom('map_blob_sizes').select('map_id').distinct().execute();
    return new Set(rows.map((r) => r.map_id));
  }

  /** Notes the sizes of blobs a map now holds (replacing any note of the same digest). */
  async noteBlobSizes(mapId: string, sizes: ReadonlyMap<string, number>): Promise<void> {
    const hexes = [...sizes.keys()];
    await this.forgetBlobSizes(mapId, hexes);
    for (let i = 0; i < hexes.length; i += 200)
      await this.insertInto(
        'map_blob_sizes',
        hexes.slice(i, i + 200).map((blob_hex) => ({ map_id: mapId, blob_hex, bytes: sizes.get(blob_hex)! })),
      );
  }

  async forgetBlobSizes(mapId: string, hexes: readonly string[]): Promise<void> {
    for (let i = 0; i < hexes.length; i += 500)
      await this.deleteFrom('map_blob_sizes')
        .where('map_id', '=', mapId)
        .where('blob_hex', 'in', hexes.slice(i, i + 500))
        .execute();
  }

  /** What the blob sweep last read of the map in full. */
  async blobCheck(mapId: string): Promise<{ headSeq: number; blobs: string } | undefined> {
    const row = await this.selectFrom('map_blob_checks')
      .select(['head_seq', 'blobs'])
      .where('map_id', '=', mapId)
      .executeTakeFirst();
    return row ? { headSeq: Number(row.head_seq), blobs: row.blobs } : undefined;
  }

  async saveBlobCheck(mapId: string, headSeq: number, blobs: string, at: number): Promise<void> {
    await this.deleteFrom('map_blob_checks').where('map_id', '=', mapId).execute();
    await this.insertInto('map_blob_checks', { map_id: mapId, head_seq: headSeq, blobs, checked_at: at });
  }
}
