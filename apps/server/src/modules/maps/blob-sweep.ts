/**
 * The daily blob sweep (job `maps.sweep_blobs`, index.ts), per tenant: the blobs of maps that have no row
 * (`MapBlobs.sweep`); the blobs of live maps that neither the document nor any version uses, noted the first
 * time (`map_blobs_unused`) and deleted once that is `UNUSED_BLOB_GRACE_MS` ago and still so (a note whose blob
 * is used again is dropped); and everything of a crypto-shredded tenant, rows and blobs, unreadable for good.
 * A map is loaded (with its versions) only when its log or its blobs changed since its last full check
 * (`map_blob_checks`); otherwise its notes stand as they are.
 */
import { createHash } from 'node:crypto';
import { MindMap, type MapDocument } from '@canopy/model';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/connect.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { UNUSED_BLOB_GRACE_MS, blobRefsOf, keyHex, refHex, type MapBlobs } from './blobs.ts';
import type { MapContentStore } from './content.ts';
import { MapsRepository } from './repository.ts';

export class MapBlobSweep {
  constructor(
    private readonly database: Database,
    private readonly content: MapContentStore,
    private readonly blobs: MapBlobs,
    private readonly clock: Clock,
  ) {}

  /**
   * A tenant's blobs that no map names, and those its live maps have not used for the grace time; then the
   * noted sizes of its maps' blobs (the quota's count) set right against what the store holds. `sized`: how
   * many sizes were noted or dropped.
   */
  async tenant(tenantId: string): Promise<{ maps: number; blobs: number; unused: number; sized: number }> {
    const byMap = await this.blobs.byMap(tenantId);
    const noted = await this.repo(tenantId, (repo) => repo.blobNotes.mapsWithBlobSizes());
    if (byMap.size === 0 && noted.size === 0) return { maps: 0, blobs: 0, unused: 0, sized: 0 };
    const live = await this.repo(tenantId, (repo) => repo.existingMaps([...byMap.keys()]));
    const orphans = await this.blobs.sweep(tenantId, async () => live, this.now(), byMap);
    let unused = 0;
    for (const mapId of live) unused += await this.unused(tenantId, mapId, byMap.get(mapId) ?? []);
    let sized = 0;
    for (const mapId of new Set([...live, ...noted]))
      sized += await this.sizes(tenantId, mapId, byMap.get(mapId) ?? []);
    return { ...orphans, unused, sized };
  }

  /**
   * A map's noted blob sizes against its blobs as listed (`keys`, read before this sweep deleted any): a blob
   * without a note (a crash between storing it and noting it; blobs stored before notes existed) is read for
   * its size and noted; a note whose blob is gone (a crash between deleting it and dropping the note) is
   * dropped, once the store confirms it (a blob stored after the listing has its note already). Returns how
   * many notes changed.
   */
  private async sizes(tenantId: string, mapId: string, keys: string[]): Promise<number> {
    const held = new Set(keys.map(keyHex));
    const noted = await this.repo(tenantId, (repo) => repo.blobNotes.blobSizes(mapId));
    const measured = new Map<string, number>();
    for (const hex of held) {
      if (noted.has(hex)) continue;
      const bytes = await this.blobs.size(tenantId, mapId, hex);
      if (bytes !== undefined) measured.set(hex, bytes);
    }
    const gone: string[] = [];
    for (const hex of noted.keys())
      if (!held.has(hex) && !(await this.blobs.has(tenantId, mapId, `sha256:${hex}`))) gone.push(hex);
    if (measured.size === 0 && gone.length === 0) return 0;
    return this.repo(tenantId, async (repo) => {
      if (!(await repo.findMap(mapId))) return 0; // deleted meanwhile: its notes went with it
      await repo.blobNotes.noteBlobSizes(mapId, measured);
      await repo.blobNotes.forgetBlobSizes(mapId, gone);
      return measured.size + gone.length;
    });
  }

  /** A crypto-shredded tenant's maps: rows (a map with its log, shares and versions per transaction), then blobs. */
  async shreddedTenant(tenantId: string): Promise<{ maps: number; blobs: number; rows: number }> {
    let rows = 0;
    for (;;) {
      const ids = await this.repo(tenantId, (repo) => repo.someMapIds(100));
      if (ids.length === 0) break;
      for (const id of ids) if (await this.repo(tenantId, (repo) => repo.deleteMap(id))) rows++;
    }
    const swept = await this.blobs.sweep(tenantId, async () => new Set(), Number.MAX_SAFE_INTEGER);
    return { ...swept, rows };
  }

  /** A live map's unused blobs: noted, note dropped, or deleted when due; how many were deleted. */
  private async unused(tenantId: string, mapId: string, keys: string[]): Promise<number> {
    const now = this.now();
    const blobs = digestOf(keys);
    const hexes =
      (await this.dueIfUnchanged(tenantId, mapId, blobs, now)) ??
      (await this.check(tenantId, mapId, keys, blobs, now));
    if (hexes.length === 0) return 0;
    // The blobs first: if this stops halfway, the notes stay and the next sweep deletes what is left.
    const deleted = await this.blobs.deleteUnused(tenantId, mapId, hexes);
    await this.repo(tenantId, async (repo) => {
      await repo.blobNotes.forgetUnusedBlobs(mapId, hexes);
      await repo.blobNotes.forgetBlobSizes(mapId, hexes);
    });
    return deleted;
  }

  /**
   * When neither the map's log nor its blobs changed since the last full check, the blobs unused then are
   * unused now (a new version is taken from the document as it is, so it uses nothing new): their notes stand,
   * and the due ones are returned without loading the map. Undefined when something changed.
   */
  private async dueIfUnchanged(
    tenantId: string,
    mapId: string,
    blobs: string,
    now: number,
  ): Promise<string[] | undefined> {
    return this.repo(tenantId, async (repo) => {
      const head = await repo.headOf(mapId);
      const last = await repo.blobNotes.blobCheck(mapId);
      if (!head || !last || last.headSeq !== head.headSeq || last.blobs !== blobs) return undefined;
      const noted = await repo.blobNotes.unusedBlobs(mapId);
      return [...noted].filter(([, since]) => now - since >= UNUSED_BLOB_GRACE_MS).map(([hex]) => hex);
    });
  }

  /** The full check: loads the map and its versions, updates the notes; the due blobs. */
  private async check(
    tenantId: string,
    mapId: string,
    keys: string[],
    blobs: string,
    now: number,
  ): Promise<string[]> {
    const inUse = await this.inUse(tenantId, mapId);
    if (!inUse) return [];
    const unused = new Set(keys.map(keyHex).filter((hex) => !inUse.hexes.has(hex)));
    return this.repo(tenantId, async (repo) => {
      const noted = await repo.blobNotes.unusedBlobs(mapId);
      await repo.blobNotes.markBlobsUnused(
        mapId,
        [...unused].filter((hex) => !noted.has(hex)),
        now,
      );
      await repo.blobNotes.forgetUnusedBlobs(
        mapId,
        [...noted.keys()].filter((hex) => !unused.has(hex)),
      );
      // As of the log's head the map was loaded at: an edit since makes the next sweep check it again.
      await repo.blobNotes.saveBlobCheck(mapId, inUse.seq, blobs, now);
      return [...noted]
        .filter(([hex, since]) => unused.has(hex) && now - since >= UNUSED_BLOB_GRACE_MS)
        .map(([hex]) => hex);
    });
  }

  /**
   * The digests of the blobs a map's document and versions use, and the log's head they were read at;
   * undefined if the map is gone or unreadable.
   */
  private async inUse(
    tenantId: string,
    mapId: string,
  ): Promise<{ hexes: Set<string>; seq: number } | undefined> {
    const hexes = new Set<string>();
    const add = (document: MapDocument) => {
      for (const ref of blobRefsOf(document).keys()) {
        const hex = refHex(ref);
        if (hex) hexes.add(hex);
      }
    };
    const seq = await this.content.read(tenantId, mapId, (map, at) => {
      add(map.toJSON());
      return at;
    });
    if (seq === undefined) return undefined;
    for (const version of await this.repo(tenantId, (repo) => repo.versionSnapshots(mapId))) {
      const opened = MindMap.fromSnapshot(
        await this.content.openVersion(tenantId, version.id, version.snapshot),
      );
      // A version that does not open: which blobs it uses cannot be told, so none is deleted.
      if (!opened.ok) return undefined;
      try {
        add(opened.value.toJSON());
      } finally {
        opened.value.free();
      }
    }
    return { hexes, seq };
  }

  private repo<T>(tenantId: string, fn: (repo: MapsRepository) => Promise<T>): Promise<T> {
    return withTenant(this.database, tenantId, (scope) => fn(new MapsRepository(scope)));
  }

  private now(): number {
    return this.clock.now().getTime();
  }
}

/** A digest of a map's blob keys (any order), to tell whether they changed since the last check. */
function digestOf(keys: readonly string[]): string {
  return createHash('sha256')
    .update([...keys].sort().join('\n'))
    .digest('hex');
}
