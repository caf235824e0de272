/**
 * The maps module's tables and its repository (always inside a tenant scope); the sealed content rows as key
 * rotation pages through them are content-rows.ts's.
 */
import { sql } from 'kysely';
import { TenantRepository, type TenantScope } from '../../platform/db/tenant.ts';
import { MapBlobNotes } from './blob-notes.ts';

export type MapRole = 'owner' | 'editor' | 'viewer';
export type ShareRole = Exclude<MapRole, 'owner'>;

export const canWrite = (role: MapRole | undefined) => role === 'owner' || role === 'editor';

/** What an append did: the map was deleted, or the entries whose author may write got `firstSeq`... in order. */
export type AppendOutcome =
  { kind: 'gone' } | { kind: 'appended'; firstSeq: number; headSeq: number; accepted: boolean[] };

export interface MapsTable {
  tenant_id: string;
  id: string;
  title: string;
  owner_id: string;
  /** Sealed Loro snapshot covering log entries up to `snapshot_seq`. */
  snapshot: Uint8Array;
  snapshot_seq: number;
  /** Highest seq appended to `map_updates`; entries snapshot_seq+1..head_seq are in the log. */
  head_seq: number;
  created_at: number;
  updated_at: number;
}

export interface MapUpdatesTable {
  tenant_id: string;
  map_id: string;
  seq: number;
  /** Sealed Loro update. */
  data: Uint8Array;
  account_id: string;
  created_at: number;
}

export interface MapSharesTable {
  tenant_id: string;
  map_id: string;
  account_id: string;
  role: ShareRole;
  created_at: number;
}

export interface MapVersionsTable {
  tenant_id: string;
  id: string;
  map_id: string;
  name: string;
  snapshot: Uint8Array;
  created_by: string;
  created_at: number;
}

declare module '../../platform/db/schema.ts' {
  interface Tables {
    maps: MapsTable;
    map_updates: MapUpdatesTable;
    map_shares: MapSharesTable;
    map_versions: MapVersionsTable;
  }
}

export type MapRow = Omit<MapsTable, 'snapshot' | 'tenant_id'>;

const MAP_COLUMNS = [
  'id',
  'title',
  'owner_id',
  'snapshot_seq',
  'head_seq',
  'created_at',
  'updated_at',
] as const;

export const num = (v: unknown) => Number(v);
const normalise = (r: MapRow): MapRow => ({
  ...r,
  snapshot_seq: num(r.snapshot_seq),
  head_seq: num(r.head_seq),
  created_at: num(r.created_at),
  updated_at: num(r.updated_at),
});

export class MapsRepository extends TenantRepository {
  /** What the blob sweep and the quota note about the maps' blobs (blob-notes.ts), in the same transaction. */
  readonly blobNotes: MapBlobNotes;

  constructor(scope: TenantScope | undefined) {
    super(scope);
    this.blobNotes = new MapBlobNotes(scope);
  }

  async insertMap(row: Omit<MapsTable, 'tenant_id'>): Promise<void> {
    await this.insertInto('maps', row);
  }

  async findMap(id: string): Promise<MapRow | undefined> {
    const row = await this.selectFrom('maps').select(MAP_COLUMNS).where('id', '=', id).executeTakeFirst();
    return row ? normalise(row) : undefined;
  }

  /** Up to `limit` of the tenant's map ids (deleting a shredded tenant's maps a batch at a time). */
  async someMapIds(limit: number): Promise<string[]> {
    const rows = await this.selectFrom('maps').select('id').limit(limit).execute();
    return rows.map((r) => r.id);
  }

  /** The title and owner of each of these maps (at most a page: the storage view's largest maps). */
  async titlesAndOwners(ids: string[]): Promise<Map<string, { title: string; ownerId: string }>> {
    if (ids.length === 0) return new Map();
    const rows = await this.selectFrom('maps')
      .select(['id', 'title', 'owner_id'])
      .where('id', 'in', ids)
      .execute();
    return new Map(rows.map((r) => [r.id, { title: r.title, ownerId: r.owner_id }]));
  }

  /** Which of these maps are shared with this account (at most a page). */
  async sharedWith(accountId: string, ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.selectFrom('map_shares')
      .select('map_id')
      .where('account_id', '=', accountId)
      .where('map_id', 'in', ids)
      .execute();
    return new Set(rows.map((r) => r.map_id));
  }

  /** Which of these map ids exist (in pages of 500). */
  async existingMaps(ids: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.selectFrom('maps')
        .select('id')
        .where('id', 'in', ids.slice(i, i + 500))
        .execute();
      for (const r of rows) found.add(r.id);
    }
    return found;
  }

  /** Maps this account owns or has been shared, newest change first. */
  async listForAccount(accountId: string): Promise<(MapRow & { role: MapRole })[]> {
    const owned = await this.selectFrom('maps')
      .select(MAP_COLUMNS)
      .where('owner_id', '=', accountId)
      .execute();
    const shared = await this.selectFrom('maps')
      .innerJoin('map_shares', (j) =>
        j.onRef('map_shares.tenant_id', '=', 'maps.tenant_id').onRef('map_shares.map_id', '=', 'maps.id'),
      )
      .select(MAP_COLUMNS.map((c) => `maps.${c}` as const))
      .select('map_shares.role')
      .where('map_shares.account_id', '=', accountId)
      .where('maps.owner_id', '!=', accountId)
      .execute();
    return [
      ...owned.map((r) => ({ ...normalise(r), role: 'owner' as const })),
      ...shared.map((r) => ({ ...normalise(r), role: r.role })),
    ].sort((a, b) => b.updated_at - a.updated_at);
  }

  async roleOf(mapId: string, accountId: string): Promise<MapRole | undefined> {
    const map = await this.selectFrom('maps').select('owner_id').where('id', '=', mapId).executeTakeFirst();
    if (!map) return undefined;
    if (map.owner_id === accountId) return 'owner';
    const share = await this.selectFrom('map_shares')
      .select('role')
      .where('map_id', '=', mapId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return share?.role;
  }

  /** Roles of several accounts at once (the commit path checks every writer of a batch with one query). */
  async rolesOf(mapId: string, accountIds: string[]): Promise<Map<string, MapRole>> {
    const roles = new Map<string, MapRole>();
    const map = await this.selectFrom('maps').select('owner_id').where('id', '=', mapId).executeTakeFirst();
    if (!map || accountIds.length === 0) return roles;
    await this.addShareRoles(roles, mapId, accountIds);
    if (accountIds.includes(map.owner_id)) roles.set(map.owner_id, 'owner');
    return roles;
  }

  /** Adds the share roles of `accountIds` on the map to `roles`. */
  private async addShareRoles(
    roles: Map<string, MapRole>,
    mapId: string,
    accountIds: string[],
  ): Promise<void> {
    const shares = await this.selectFrom('map_shares')
      .select(['account_id', 'role'])
      .where('map_id', '=', mapId)
      .where('account_id', 'in', accountIds)
      .execute();
    for (const s of shares) roles.set(s.account_id, s.role);
  }

  async deleteMap(id: string): Promise<boolean> {
    // Children first: SQLite enforces the cascade only with foreign_keys on, and MySQL may lack it on old tables.
    await this.deleteFrom('map_updates').where('map_id', '=', id).execute();
    await this.deleteFrom('map_shares').where('map_id', '=', id).execute();
    await this.deleteFrom('map_versions').where('map_id', '=', id).execute();
    await this.deleteFrom('map_blobs_unused').where('map_id', '=', id).execute();
    await this.deleteFrom('map_blob_checks').where('map_id', '=', id).execute();
    await this.deleteFrom('map_blob_sizes').where('map_id', '=', id).execute();
    const r = await this.deleteFrom('maps').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }

  async upsertShare(mapId: string, accountId: string, role: ShareRole, now: number): Promise<void> {
    const r = await this.updateTable('map_shares')
      .set({ role })
      .where('map_id', '=', mapId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) {
      await this.insertInto('map_shares', { map_id: mapId, account_id: accountId, role, created_at: now });
    }
  }

  async removeShare(mapId: string, accountId: string): Promise<boolean> {
    const r = await this.deleteFrom('map_shares')
      .where('map_id', '=', mapId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }

  async listShares(mapId: string): Promise<{ accountId: string; role: ShareRole; createdAt: number }[]> {
    const rows = await this.selectFrom('map_shares')
      .select(['account_id', 'role', 'created_at'])
      .where('map_id', '=', mapId)
      .orderBy('created_at')
      .execute();
    return rows.map((r) => ({ accountId: r.account_id, role: r.role, createdAt: num(r.created_at) }));
  }

  // ---- content: snapshot + log ---------------------------------------------------------------------------

  async snapshotOf(
    mapId: string,
  ): Promise<{ snapshot: Uint8Array; snapshotSeq: number; headSeq: number } | undefined> {
    const row = await this.selectFrom('maps')
      .select(['snapshot', 'snapshot_seq', 'head_seq'])
      .where('id', '=', mapId)
      .executeTakeFirst();
    return row
      ? { snapshot: row.snapshot, snapshotSeq: num(row.snapshot_seq), headSeq: num(row.head_seq) }
      : undefined;
  }

  async headOf(mapId: string): Promise<{ snapshotSeq: number; headSeq: number } | undefined> {
    const row = await this.selectFrom('maps')
      .select(['snapshot_seq', 'head_seq'])
      .where('id', '=', mapId)
      .executeTakeFirst();
    return row ? { snapshotSeq: num(row.snapshot_seq), headSeq: num(row.head_seq) } : undefined;
  }

  async logAfter(
    mapId: string,
    afterSeq: number,
    limit = 10_000,
  ): Promise<{ seq: number; data: Uint8Array }[]> {
    const rows = await this.selectFrom('map_updates')
      .select(['seq', 'data'])
      .where('map_id', '=', mapId)
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ seq: num(r.seq), data: r.data }));
  }

  /**
   * The log append on PostgreSQL and MySQL (SQLite: sqlite-log-writer.ts), in the caller's transaction: appends
   * the entries whose author is owner or editor now and returns their seqs. Round trips: the map row locked and
   * read (`for update`: appenders on other nodes and the compactor queue behind it), then the authors' shares
   * (read after the lock, so a demotion committed before it counts), then the head moved and the rows inserted
   * (one statement on PostgreSQL, two on MySQL).
   */
  async appendEntries(
    dialect: 'postgres' | 'mysql',
    mapId: string,
    entries: { accountId: string; data: Uint8Array }[],
    now: number,
  ): Promise<AppendOutcome> {
    const map = await this.selectFrom('maps')
      .select(['owner_id', 'head_seq'])
      .where('id', '=', mapId)
      .forUpdate()
      .executeTakeFirst();
    if (!map) return { kind: 'gone' };
    const authors = [...new Set(entries.map((e) => e.accountId))];
    const roles = new Map<string, MapRole>();
    const sharers = authors.filter((a) => a !== map.owner_id);
    if (sharers.length > 0) await this.addShareRoles(roles, mapId, sharers);
    roles.set(map.owner_id, 'owner');
    const accepted = entries.map((e) => canWrite(roles.get(e.accountId)));
    const head = num(map.head_seq);
    const count = accepted.filter(Boolean).length;
    if (count === 0) return { kind: 'appended', firstSeq: head + 1, headSeq: head, accepted };
    let seq = head + 1;
    const rows = entries.flatMap((e, i) =>
      accepted[i]
        ? [
            {
              tenant_id: this.tenantId,
              map_id: mapId,
              seq: seq++,
              data: e.data,
              account_id: e.accountId,
              created_at: now,
            },
          ]
        : [],
    );
    const move = this.updateTable('maps')
      .set({ head_seq: head + count, updated_at: now })
      .where('id', '=', mapId);
    if (dialect === 'postgres') {
      // A data-modifying WITH runs exactly once whether or not the INSERT reads it.
      await this.trx
        .with('moved', () => move)
        .insertInto('map_updates')
        .values(rows)
        .execute();
    } else {
      await move.execute();
      await this.trx.insertInto('map_updates').values(rows).execute();
    }
    return { kind: 'appended', firstSeq: head + 1, headSeq: head + count, accepted };
  }

  /** Takes the map row's lock (as `appendEntries` does) without changing it; returns false if the map is gone. */
  async lockMap(mapId: string): Promise<boolean> {
    const r = await this.updateTable('maps')
      .set({ head_seq: sql`head_seq` })
      .where('id', '=', mapId)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async replaceSnapshot(mapId: string, snapshot: Uint8Array, snapshotSeq: number): Promise<void> {
    await this.updateTable('maps')
      .set({ snapshot, snapshot_seq: snapshotSeq })
      .where('id', '=', mapId)
      .execute();
    await this.deleteFrom('map_updates')
      .where('map_id', '=', mapId)
      .where('seq', '<=', snapshotSeq)
      .execute();
  }

  async setTitle(mapId: string, title: string): Promise<void> {
    await this.updateTable('maps')
      .set({ title: title.slice(0, 1000) })
      .where('id', '=', mapId)
      .execute();
  }

  // ---- versions ------------------------------------------------------------------------------------------

  async insertVersion(row: Omit<MapVersionsTable, 'tenant_id'>): Promise<void> {
    await this.insertInto('map_versions', row);
  }

  async listVersions(
    mapId: string,
  ): Promise<{ id: string; name: string; createdBy: string; createdAt: number }[]> {
    const rows = await this.selectFrom('map_versions')
      .select(['id', 'name', 'created_by', 'created_at'])
      .where('map_id', '=', mapId)
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      createdBy: r.created_by,
      createdAt: num(r.created_at),
    }));
  }

  /** Every version's sealed snapshot, by version id (the blob sweep reads which blobs they use). */
  async versionSnapshots(mapId: string): Promise<{ id: string; snapshot: Uint8Array }[]> {
    return this.selectFrom('map_versions').select(['id', 'snapshot']).where('map_id', '=', mapId).execute();
  }

  async findVersion(mapId: string, id: string): Promise<{ snapshot: Uint8Array; name: string } | undefined> {
    return this.selectFrom('map_versions')
      .select(['snapshot', 'name'])
      .where('map_id', '=', mapId)
      .where('id', '=', id)
      .executeTakeFirst();
  }
}
