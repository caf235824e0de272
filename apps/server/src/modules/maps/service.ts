/**
 * The maps commands: every one takes the caller, resolves the caller's role on the map inside the caller's
 * tenant (another tenant's map is simply not found), and then acts.
 */
import { randomUUID } from 'node:crypto';
import { MindMap, type MapDocument } from '@canopy/model';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/connect.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { checkBlobQuota, newImportMapId, refHex, type BlobContent, type MapBlobs } from './blobs.ts';
import type { MapContentStore } from './content.ts';
import { documentInvalid, mapForbidden, mapNotFound, shareeNotFound, versionNotFound } from './errors.ts';
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

export class MapsService {
  private readonly listeners: MapsListener[] = [];

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
  async withContent<T>(tenantId: string, mapId: string, use: (map: MindMap) => T): Promise<T> {
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
