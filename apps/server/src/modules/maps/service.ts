/**
 * The maps commands: every one takes the caller, resolves the caller's role on the map inside the caller's
 * tenant (another tenant's map is simply not found), and then acts.
 */
import { createHash, randomUUID } from 'node:crypto';
import { MindMap, type MapDocument } from '@canopy/model';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/connect.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { AppError } from '../../platform/errors.ts';
import {
  blobRefsOf,
  blobsTooLarge,
  checkBlobQuota,
  newImportMapId,
  refHex,
  type BlobContent,
  type MapBlobs,
  type RefUse,
} from './blobs.ts';
import type { MapContentStore } from './content.ts';
import {
  blobNotFound,
  documentInvalid,
  mapForbidden,
  mapNotFound,
  shareeNotFound,
  versionNotFound,
} from './errors.ts';
import type { Caller, MapsIdentity } from './ports.ts';
import { MapsRepository, type MapRole, type ShareRole } from './repository.ts';

export interface MapSummary {
  id: string;
  title: string;
  createdAt: string;
  updatedAt: string;
  role: MapRole;
}

/** Told when a map's content changed outside a live room (restore), or its access changed (shares). */
export interface MapsListener {
  contentChanged?(tenantId: string, mapId: string): void;
  accessChanged?(tenantId: string, mapId: string): void;
  deleted?(tenantId: string, mapId: string): void;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** How many maps' blob refs the service keeps (a few KB each). */
const REF_CACHE_MAPS = 200;
/** How many maps the storage view lists (the ones counting the most). */
const LARGEST_MAPS = 20;

/** `GET /orgs/{orgId}/storage`: see `MapsService.storage`. */
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

export class MapsService {
  private readonly listeners: MapsListener[] = [];
  /** Blob refs per map and log head (refsAt), least recently used first. */
  private readonly refCache = new Map<string, { headSeq: number; refs: Promise<Map<string, RefUse>> }>();

  constructor(
    private readonly database: Database,
    readonly content: MapContentStore,
    private readonly identity: MapsIdentity,
    private readonly clock: Clock,
    /** The map's images and attachments; without it imports keep none (and say so). */
    readonly blobs?: MapBlobs,
  ) {}

  listen(listener: MapsListener): void {
    this.listeners.push(listener);
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  private repo<T>(caller: Caller, fn: (repo: MapsRepository) => Promise<T>): Promise<T> {
    return withTenant(this.database, caller.tenantId, (scope) => fn(new MapsRepository(scope)));
  }

  /** The caller's role, or a 404 (unknown or another tenant's) / 403 (same tenant, no access). */
  async requireRole(caller: Caller, mapId: string, allowed: readonly MapRole[]): Promise<MapRole> {
    const found = await this.repo(caller, async (repo) => ({
      exists: (await repo.findMap(mapId)) !== undefined,
      role: await repo.roleOf(mapId, caller.accountId),
    }));
    if (!found.exists) throw mapNotFound();
    if (!found.role) throw mapForbidden('This map has not been shared with you.');
    if (!allowed.includes(found.role)) throw mapForbidden();
    return found.role;
  }

  /** The role without throwing: undefined when the map does not exist in this tenant or is not shared. */
  async roleOf(caller: Caller, mapId: string): Promise<{ exists: boolean; role: MapRole | undefined }> {
    return this.repo(caller, async (repo) => ({
      exists: (await repo.findMap(mapId)) !== undefined,
      role: await repo.roleOf(mapId, caller.accountId),
    }));
  }

  /** Roles of these accounts on a map (collab rooms refresh their members' roles with it). */
  async rolesOf(tenantId: string, mapId: string, accountIds: string[]): Promise<Map<string, MapRole>> {
    return withTenant(this.database, tenantId, (scope) =>
      new MapsRepository(scope).rolesOf(mapId, accountIds),
    );
  }

  async create(
    caller: Caller,
    title: string,
    document?: MapDocument,
    id: string = randomUUID(),
    /** Sizes of the blobs an import stored for it, by digest: noted with the map row (blob quota). */
    blobSizes?: ReadonlyMap<string, number>,
  ): Promise<MapSummary> {
    let map: MindMap;
    try {
      map = document ? MindMap.fromJSON({ ...document, title }) : MindMap.create(title);
    } catch (err) {
      throw documentInvalid(err instanceof Error ? err.message : String(err));
    }
    let exported: Uint8Array;
    try {
      exported = map.exportSnapshot();
    } finally {
      map.free();
    }
    const snapshot = await this.content.packSnapshot(caller.tenantId, id, exported);
    const now = this.now();
    await this.repo(caller, async (repo) => {
      await repo.insertMap({
        id,
        title,
        owner_id: caller.accountId,
        snapshot,
        snapshot_seq: 0,
        head_seq: 0,
        created_at: now,
        updated_at: now,
      });
      if (blobSizes) await repo.blobNotes.noteBlobSizes(id, blobSizes);
    });
    return { id, title, createdAt: iso(now), updatedAt: iso(now), role: 'owner' };
  }

  /**
   * Creates a map from an imported file: its blobs go to the blob store first (limits checked before anything
   * is stored: 413 `map_blobs_too_large`), then the map row; if the map cannot be created, the blobs are
   * deleted again. Returns the map and what was not kept.
   */
  async importDocument(
    caller: Caller,
    title: string,
    document: MapDocument,
    blobs: ReadonlyMap<string, BlobContent>,
  ): Promise<{ map: MapSummary; warnings: string[] }> {
    const warnings: string[] = [];
    if (blobs.size === 0) return { map: await this.create(caller, title, document), warnings };
    if (!this.blobs) {
      warnings.push(`${blobs.size} embedded image(s)/attachment(s) were not kept (no blob store)`);
      return { map: await this.create(caller, title, document), warnings };
    }
    const { keep, mismatched } = this.blobs.check(blobs);
    if (mismatched > 0)
      warnings.push(
        `${mismatched} embedded blob(s) whose reference did not match their content were not kept`,
      );
    const sizes = new Map([...keep].map(([ref, blob]) => [refHex(ref)!, blob.data.byteLength]));
    const adding = [...sizes.values()].reduce((a, b) => a + b, 0);
    checkBlobQuota(
      await this.repo(caller, (repo) => repo.blobNotes.tenantBlobBytes()),
      adding,
      this.blobs.limits.tenantQuotaBytes,
    );
    // A UUIDv7: the orphan sweep reads from it how old blobs without a map row are (blobs.ts).
    const id = newImportMapId(this.now());
    await this.blobs.storeAll(caller.tenantId, id, keep);
    try {
      return { map: await this.create(caller, title, document, id, sizes), warnings };
    } catch (err) {
      await this.blobs.deleteMap(caller.tenantId, id).catch(() => 0);
      throw err;
    }
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
    await this.requireRole(caller, mapId, ['owner', 'editor']);
    const blobs = this.blobs;
    if (!blobs) throw new AppError(501, 'blobs_unavailable', 'This server keeps no images or attachments.');
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
    const quota = this.blobs?.limits.tenantQuotaBytes ?? 0;
    return { usedBytes: found.usedBytes, quotaBytes: quota > 0 ? quota : null, maps };
  }

  /** The stored images and attachments the document refers to (for an export). */
  async blobsFor(caller: Caller, mapId: string, document: MapDocument): Promise<Map<string, BlobContent>> {
    if (!this.blobs) return new Map();
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
    if (!use || !blobs || !(await blobs.has(caller.tenantId, mapId, ref))) throw blobNotFound();
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
    const refs = this.withContent(tenantId, mapId, (map) => blobRefsOf(map.toJSON()));
    refs.catch(() => this.refCache.get(key)?.refs === refs && this.refCache.delete(key));
    this.refCache.set(key, { headSeq, refs });
    while (this.refCache.size > REF_CACHE_MAPS) this.refCache.delete(this.refCache.keys().next().value!);
    return refs;
  }

  async list(caller: Caller): Promise<MapSummary[]> {
    const rows = await this.repo(caller, (repo) => repo.listForAccount(caller.accountId));
    return rows.map((r) => ({
      id: r.id,
      title: r.title,
      createdAt: iso(r.created_at),
      updatedAt: iso(r.updated_at),
      role: r.role,
    }));
  }

  async get(caller: Caller, mapId: string): Promise<MapSummary> {
    const role = await this.requireRole(caller, mapId, ['owner', 'editor', 'viewer']);
    const row = await this.repo(caller, (repo) => repo.findMap(mapId));
    if (!row) throw mapNotFound();
    // The title lives in the document; the row's copy follows it at each compaction of the log.
    return {
      id: row.id,
      title: row.title,
      createdAt: iso(row.created_at),
      updatedAt: iso(row.updated_at),
      role,
    };
  }

  /**
   * Renames a map: the title is part of the document, so this is a change in the update log (live rooms and
   * offline replicas merge it like an edit), and the row's copy follows at once so the list shows it.
   */
  async rename(caller: Caller, mapId: string, title: string): Promise<MapSummary> {
    await this.requireRole(caller, mapId, ['owner', 'editor']);
    const update = await this.withContent(caller.tenantId, mapId, (map) => {
      const before = map.versionVector();
      try {
        map.setTitle(title);
      } catch (err) {
        throw documentInvalid(err instanceof Error ? err.message : String(err));
      }
      return map.exportUpdatesSince(before);
    });
    if (!update.ok) throw documentInvalid(update.error.message);
    const appended = await this.content.append(caller.tenantId, mapId, [
      { accountId: caller.accountId, data: update.value },
    ]);
    if (appended.kind === 'gone') throw mapNotFound();
    await this.repo(caller, (repo) => repo.setTitle(mapId, title));
    for (const l of this.listeners) l.contentChanged?.(caller.tenantId, mapId);
    return this.get(caller, mapId);
  }

  async document(caller: Caller, mapId: string): Promise<MapDocument> {
    await this.requireRole(caller, mapId, ['owner', 'editor', 'viewer']);
    // Plain objects, which outlive the map.
    return this.withContent(caller.tenantId, mapId, (map) => map.toJSON());
  }

  async remove(caller: Caller, mapId: string): Promise<void> {
    await this.requireRole(caller, mapId, ['owner']);
    await this.repo(caller, (repo) => repo.deleteMap(mapId));
    for (const l of this.listeners) l.deleted?.(caller.tenantId, mapId);
    // After the rows: a failure here (an error answer) leaves blobs that no map names and no route serves,
    // never a map whose images are gone.
    await this.blobs?.deleteMap(caller.tenantId, mapId);
  }

  async share(
    caller: Caller,
    mapId: string,
    email: string,
    role: ShareRole,
  ): Promise<{ accountId: string; role: ShareRole }> {
    await this.requireRole(caller, mapId, ['owner']);
    const accountId = await this.identity.findAccountByEmail(caller.tenantId, email);
    if (!accountId) throw shareeNotFound();
    await this.repo(caller, async (repo) => {
      const map = await repo.findMap(mapId);
      if (map?.owner_id === accountId)
        throw mapForbidden('The owner of a map cannot be given another role on it.');
      await repo.upsertShare(mapId, accountId, role, this.now());
    });
    for (const l of this.listeners) l.accessChanged?.(caller.tenantId, mapId);
    return { accountId, role };
  }

  async unshare(caller: Caller, mapId: string, accountId: string): Promise<void> {
    await this.requireRole(caller, mapId, ['owner']);
    await this.repo(caller, (repo) => repo.removeShare(mapId, accountId));
    for (const l of this.listeners) l.accessChanged?.(caller.tenantId, mapId);
  }

  async shares(caller: Caller, mapId: string) {
    await this.requireRole(caller, mapId, ['owner', 'editor', 'viewer']);
    const rows = await this.repo(caller, (repo) => repo.listShares(mapId));
    return rows.map((r) => ({ accountId: r.accountId, role: r.role, createdAt: iso(r.createdAt) }));
  }

  /** `use` of the map's content (`MapContentStore.read`, which frees it after); map_not_found if it is gone. */
  private async withContent<T>(tenantId: string, mapId: string, use: (map: MindMap) => T): Promise<T> {
    const result = await this.content.read(tenantId, mapId, (map) => ({ value: use(map) }));
    if (!result) throw mapNotFound();
    return result.value;
  }

  // ---- versions ------------------------------------------------------------------------------------------

  async saveVersion(caller: Caller, mapId: string, name: string) {
    await this.requireRole(caller, mapId, ['owner', 'editor']);
    const exported = await this.withContent(caller.tenantId, mapId, (map) => map.exportSnapshot());
    const id = randomUUID();
    const snapshot = await this.content.packVersion(caller.tenantId, id, exported);
    const now = this.now();
    await this.repo(caller, (repo) =>
      repo.insertVersion({
        id,
        map_id: mapId,
        name,
        snapshot,
        created_by: caller.accountId,
        created_at: now,
      }),
    );
    return { id, name, createdBy: caller.accountId, createdAt: iso(now) };
  }

  async versions(caller: Caller, mapId: string) {
    await this.requireRole(caller, mapId, ['owner', 'editor', 'viewer']);
    const rows = await this.repo(caller, (repo) => repo.listVersions(mapId));
    return rows.map((r) => ({ ...r, createdAt: iso(r.createdAt) }));
  }

  /**
   * Restores a version as a new change on top of the current map (Loro's revert: the history stays, live
   * rooms and offline replicas merge it like any edit), after saving the current state as a new version.
   */
  async restoreVersion(caller: Caller, mapId: string, versionId: string) {
    await this.requireRole(caller, mapId, ['owner', 'editor']);
    const stored = await this.repo(caller, (repo) => repo.findVersion(mapId, versionId));
    if (!stored) throw versionNotFound();
    const version = await this.content.openVersion(caller.tenantId, versionId, stored.snapshot);
    const before = await this.saveVersion(caller, mapId, `Before restoring "${stored.name}"`);
    const reverted = await this.withContent(caller.tenantId, mapId, (map) => map.revertToSnapshot(version));
    if (!reverted.ok) throw documentInvalid(`the version cannot be restored: ${reverted.error.message}`);
    const update = reverted.value;
    const appended = await this.content.append(caller.tenantId, mapId, [
      { accountId: caller.accountId, data: update },
    ]);
    if (appended.kind === 'gone') throw mapNotFound();
    for (const l of this.listeners) l.contentChanged?.(caller.tenantId, mapId);
    return { restored: versionId, savedAs: before.id };
  }
}
