/**
 * The daily blob sweep (job `maps.sweep_blobs`, index.ts), per tenant: the blobs of maps that have no row
 * (`MapBlobs.sweep`); the blobs of live maps that neither the document nor any version uses, noted the first
 * time (`map_blobs_unused`) and deleted once that is `UNUSED_BLOB_GRACE_MS` ago and still so (a note whose blob
 * is used again is dropped); and everything of a crypto-shredded tenant, rows and blobs, unreadable for good.
 */
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

  /** A tenant's blobs that no map names, and those its live maps have not used for the grace time. */
  async tenant(tenantId: string): Promise<{ maps: number; blobs: number; unused: number }> {
    const byMap = await this.blobs.byMap(tenantId);
    if (byMap.size === 0) return { maps: 0, blobs: 0, unused: 0 };
    const live = await this.repo(tenantId, (repo) => repo.existingMaps([...byMap.keys()]));
    const orphans = await this.blobs.sweep(tenantId, async () => live, this.now(), byMap);
    let unused = 0;
    for (const mapId of live) unused += await this.unused(tenantId, mapId, byMap.get(mapId) ?? []);
    return { ...orphans, unused };
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

  private async unused(tenantId: string, mapId: string, keys: string[]): Promise<number> {
    const inUse = await this.inUse(tenantId, mapId);
    if (!inUse) return 0;
    const now = this.now();
    const unused = new Set(keys.map(keyHex).filter((hex) => !inUse.has(hex)));
    const due = await this.repo(tenantId, async (repo) => {
      const noted = await repo.unusedBlobs(mapId);
      await repo.markBlobsUnused(
        mapId,
        [...unused].filter((hex) => !noted.has(hex)),
        now,
      );
      await repo.forgetUnusedBlobs(
        mapId,
        [...noted.keys()].filter((hex) => !unused.has(hex)),
      );
      return [...noted].filter(([hex, since]) => unused.has(hex) && now - since >= UNUSED_BLOB_GRACE_MS);
    });
    if (due.length === 0) return 0;
    const hexes = due.map(([hex]) => hex);
    // The blobs first: if this stops halfway, the notes stay and the next sweep deletes what is left.
    const deleted = await this.blobs.deleteUnused(tenantId, mapId, hexes);
    await this.repo(tenantId, (repo) => repo.forgetUnusedBlobs(mapId, hexes));
    return deleted;
  }

  /** The digests of the blobs a map's document and versions use; undefined if the map is gone or unreadable. */
  private async inUse(tenantId: string, mapId: string): Promise<Set<string> | undefined> {
    const loaded = await this.content.load(tenantId, mapId);
    if (!loaded) return undefined;
    const hexes = new Set<string>();
    const add = (document: MapDocument) => {
      for (const ref of blobRefsOf(document).keys()) {
        const hex = refHex(ref);
        if (hex) hexes.add(hex);
      }
    };
    add(loaded.map.toJSON());
    for (const version of await this.repo(tenantId, (repo) => repo.versionSnapshots(mapId))) {
      const opened = MindMap.fromSnapshot(
        await this.content.openVersion(tenantId, version.id, version.snapshot),
      );
      // A version that does not open: which blobs it uses cannot be told, so none is deleted.
      if (!opened.ok) return undefined;
      add(opened.value.toJSON());
    }
    return hexes;
  }

  private repo<T>(tenantId: string, fn: (repo: MapsRepository) => Promise<T>): Promise<T> {
    return withTenant(this.database, tenantId, (scope) => fn(new MapsRepository(scope)));
  }

  private now(): number {
    return this.clock.now().getTime();
  }
}
