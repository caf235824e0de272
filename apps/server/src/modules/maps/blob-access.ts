/**
 * The images and attachments of maps as callers reach them: storing one for a map (editor and up), reading one
 * the document uses (viewer and up), those an export needs, and an organisation's storage view for its admins.
 * What is stored and how (sealed, content-addressed, within limits and quotas) is blobs.ts's.
 */
import { createHash } from 'node:crypto';
import type { MapDocument } from '@canopy/model';
import type { Database } from '../../platform/db/connect.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { AppError } from '../../platform/errors.ts';
import {
  blobRefsOf,
  blobsTooLarge,
  checkBlobQuota,
  type BlobContent,
  type MapBlobs,
  type RefUse,
} from './blobs.ts';
import { blobNotFound, mapNotFound } from './errors.ts';
import type { Caller, MapsIdentity } from './ports.ts';
import { MapsRepository } from './repository.ts';
import type { MapsService } from './service.ts';

/** How many maps' blob refs are kept (a few KB each). */
const REF_CACHE_MAPS = 200;
/** How many maps the storage view lists (the ones counting the most). */
const LARGEST_MAPS = 20;

/** `GET /orgs/{orgId}/storage`: see `MapBlobAccess.storage`. */
export interface OrgStorageView {
  usedBytes: number;
  quotaBytes: number | null;
  maps: {
    id: string;
    title: string | null;
    owner: { id: string; email: string | null };
    bytes: number;
    blobs: number;
  }[];
}

export class MapBlobAccess {
  /** Blob refs per map and log head (refsAt), least recently used first. */
  private readonly refCache = new Map<string, { headSeq: number; refs: Promise<Map<string, RefUse>> }>();

  constructor(
    private readonly database: Database,
    private readonly maps: MapsService,
    private readonly identity: MapsIdentity,
    private readonly blobs: MapBlobs,
  ) {}

  private repo<T>(caller: Caller, fn: (repo: MapsRepository) => Promise<T>): Promise<T> {
    return withTenant(this.database, caller.tenantId, (scope) => fn(new MapsRepository(scope)));
  }

  /**
   * Stores an image or attachment for a map (editor and up) and returns the ref an edit then puts in the
   * document (`image.ref`, an attachment's `ref`). Content-addressed: the same bytes twice are stored once.
   * Until the document uses it, the blob is not served; if nothing uses it for 30 days the sweep deletes it.
   */
  async addBlob(
    caller: Caller,
    mapId: string,
    data: Uint8Array,
    mimeType: string,
  ): Promise<{ ref: string; mimeType: string; size: number }> {
    await this.maps.requireRole(caller, mapId, ['owner', 'editor']);
    const blobs = this.blobs;
    if (data.byteLength === 0)
      throw new AppError(400, 'empty_blob', "The body is empty: send the file's bytes.");
    if (data.byteLength > blobs.limits.maxBlobBytes)
      throw blobsTooLarge(
        `The file is ${data.byteLength} bytes; one image or attachment may have at most ${blobs.limits.maxBlobBytes}.`,
      );
    const hex = createHash('sha256').update(data).digest('hex');
    const ref = `sha256:${hex}`;
    if (!(await blobs.has(caller.tenantId, mapId, ref))) {
      const used = await this.repo(caller, (repo) => repo.blobNotes.tenantBlobBytes());
      checkBlobQuota(used, data.byteLength, blobs.limits.tenantQuotaBytes);
      await blobs.storeAll(caller.tenantId, mapId, new Map([[ref, { data, mimeType }]]));
      // Noted after the store: a crash between the two leaves a blob uncounted until the daily sweep.
      await this.repo(caller, async (repo) => {
        if (!(await repo.findMap(mapId))) throw mapNotFound(); // deleted meanwhile; the sweep takes the blob
        await repo.blobNotes.noteBlobSizes(mapId, new Map([[hex, data.byteLength]]));
      });
    }
    return { ref, mimeType, size: data.byteLength };
  }

  /**
   * How many bytes of images and attachments an organisation's (tenant's) maps hold, its quota (null: none),
   * and the maps that count the most with their owners, so that an admin whose quota is full knows whom to ask;
   * for its admins (the route checks the role). A map's title only if the map is shared with the admin (or is
   * theirs): a title can say more than its owner meant to share, and sizes and owners are enough to act on.
   */
  async storage(caller: Caller, tenantId: string): Promise<OrgStorageView> {
    const found = await withTenant(this.database, tenantId, async (scope) => {
      const repo = new MapsRepository(scope);
      const largest = await repo.blobNotes.largestMaps(LARGEST_MAPS);
      const ids = largest.map((m) => m.mapId);
      return {
        usedBytes: await repo.blobNotes.tenantBlobBytes(),
        largest,
        rows: await repo.titlesAndOwners(ids),
        shared: await repo.sharedWith(caller.accountId, ids),
      };
    });
    const owners = new Set([...found.rows.values()].map((r) => r.ownerId));
    const emails = new Map(
      await Promise.all(
        [...owners].map(async (id) => [id, (await this.identity.emailOf?.(id)) ?? null] as const),
      ),
    );
    const maps = found.largest.flatMap(({ mapId, bytes, blobs }) => {
      const row = found.rows.get(mapId);
      if (!row) return []; // deleted meanwhile
      const readable = row.ownerId === caller.accountId || found.shared.has(mapId);
      return [
        {
          id: mapId,
          title: readable ? row.title : null,
          owner: { id: row.ownerId, email: emails.get(row.ownerId) ?? null },
          bytes,
          blobs,
        },
      ];
    });
    const quota = this.blobs.limits.tenantQuotaBytes;
    return { usedBytes: found.usedBytes, quotaBytes: quota > 0 ? quota : null, maps };
  }

  /** The stored images and attachments the document refers to (for an export). */
  async blobsFor(caller: Caller, mapId: string, document: MapDocument): Promise<Map<string, BlobContent>> {
    return this.blobs.forDocument(caller.tenantId, mapId, document);
  }

  /**
   * One image or attachment of a map, for anyone who may read the map (viewer and up). A map of another
   * tenant, a map not shared with the caller, a ref the current document does not use, or a blob not stored
   * all answer 404, so the answer says nothing about maps the caller cannot read.
   */
  async blob(caller: Caller, mapId: string, ref: string): Promise<{ use: RefUse; read(): Promise<Buffer> }> {
    const found = await this.repo(caller, async (repo) => ({
      head: await repo.headOf(mapId),
      role: await repo.roleOf(mapId, caller.accountId),
    }));
    if (!found.head || !found.role) throw mapNotFound();
    const use = (await this.refsAt(caller.tenantId, mapId, found.head.headSeq)).get(ref);
    const blobs = this.blobs;
    if (!use || !(await blobs.has(caller.tenantId, mapId, ref))) throw blobNotFound();
    return {
      use,
      read: async () => {
        const data = await blobs.read(caller.tenantId, mapId, ref);
        if (!data) throw blobNotFound();
        return data;
      },
    };
  }

  /**
   * The refs a map's document uses, as of log head `headSeq`. Loading a document costs time in proportion to
   * the map (≈ 0.25 s at 1,000 topics), and an editor opening a map asks for all its images at once: the refs
   * are kept per map and head (any change appends to the log and moves the head; a compaction does not), and
   * concurrent asks share one load.
   */
  private refsAt(tenantId: string, mapId: string, headSeq: number): Promise<Map<string, RefUse>> {
    const key = `${tenantId}/${mapId}`;
    const cached = this.refCache.get(key);
    if (cached?.headSeq === headSeq) {
      this.refCache.delete(key);
      this.refCache.set(key, cached);
      return cached.refs;
    }
    const refs = this.maps.withContent(tenantId, mapId, (map) => blobRefsOf(map.toJSON()));
    refs.catch(() => this.refCache.get(key)?.refs === refs && this.refCache.delete(key));
    this.refCache.set(key, { headSeq, refs });
    while (this.refCache.size > REF_CACHE_MAPS) this.refCache.delete(this.refCache.keys().next().value!);
    return refs;
  }
}
