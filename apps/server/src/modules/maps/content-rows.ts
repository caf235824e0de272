/**
 * The maps module's sealed content rows as tenant key rotation sees them (content-keys.ts): pages of stored
 * heads, the values themselves, and compare-and-set writes. Inside a tenant scope, like `MapsRepository`.
 */
import { sql } from 'kysely';
import { TenantRepository } from '../../platform/db/tenant.ts';
import { num } from './repository.ts';

/** The tables that hold sealed content: maps (snapshot), map_versions (snapshot), map_updates (data). */
export type ContentTable = 'maps' | 'map_versions' | 'map_updates';

/** A content value's row: the map or version id, and for a log row its seq (0 in the other tables). */
export interface ContentKey {
  id: string;
  seq: number;
}

export class ContentRowsRepository extends TenantRepository {
  /**
   * The first `headBytes` of each content value after `after`, in key order: a page of a keyset scan, empty at
   * the end. A page of log rows stays within one map, so that every query is a seek on the primary key (an OR
   * over map and seq is not one on every dialect).
   */
  async contentHeads(
    table: ContentTable,
    after: ContentKey | undefined,
    limit: number,
    headBytes: number,
  ): Promise<{ key: ContentKey; head: Uint8Array }[]> {
    const head = (column: string) => sql<Uint8Array>`substr(${sql.ref(column)}, 1, ${sql.lit(headBytes)})`;
    if (table === 'map_updates') {
      const logOf = async (mapId: string, afterSeq: number | undefined) => {
        let q = this.selectFrom('map_updates')
          .select(['seq', head('data').as('head')])
          .where('map_id', '=', mapId)
          .orderBy('seq')
          .limit(limit);
        if (afterSeq !== undefined) q = q.where('seq', '>', afterSeq);
        const rows = await q.execute();
        return rows.map((r) => ({ key: { id: mapId, seq: num(r.seq) }, head: r.head }));
      };
      if (after) {
        const rest = await logOf(after.id, after.seq);
        if (rest.length) return rest;
      }
      // The next map with log rows (one loop per map emptied by a compaction between these two reads).
      for (let from = after?.id; ;) {
        let next = this.selectFrom('map_updates').select('map_id').orderBy('map_id').limit(1);
        if (from !== undefined) next = next.where('map_id', '>', from);
        const mapId = (await next.executeTakeFirst())?.map_id;
        if (mapId === undefined) return [];
        const page = await logOf(mapId, undefined);
        if (page.length) return page;
        from = mapId;
      }
    }
    let q = this.selectFrom(table)
      .select(['id', head('snapshot').as('head')])
      .orderBy('id')
      .limit(limit);
    if (after) q = q.where('id', '>', after.id);
    const rows = await q.execute();
    return rows.map((r) => ({ key: { id: r.id, seq: 0 }, head: r.head }));
  }

  /** The whole stored values of these rows (those that still exist). */
  async contentValues(
    table: ContentTable,
    keys: ContentKey[],
  ): Promise<{ key: ContentKey; value: Uint8Array }[]> {
    if (keys.length === 0) return [];
    if (table === 'map_updates') {
      const byMap = new Map<string, number[]>();
      for (const k of keys) byMap.set(k.id, [...(byMap.get(k.id) ?? []), k.seq]);
      const rows = await this.selectFrom('map_updates')
        .select(['map_id', 'seq', 'data'])
        .where((eb) =>
          eb.or([...byMap].map(([mapId, seqs]) => eb.and([eb('map_id', '=', mapId), eb('seq', 'in', seqs)]))),
        )
        .execute();
      return rows.map((r) => ({ key: { id: r.map_id, seq: num(r.seq) }, value: r.data }));
    }
    const rows = await this.selectFrom(table)
      .select(['id', 'snapshot'])
      .where(
        'id',
        'in',
        keys.map((k) => k.id),
      )
      .execute();
    return rows.map((r) => ({ key: { id: r.id, seq: 0 }, value: r.snapshot }));
  }

  /**
   * Replaces a content value only if it is still `expected` (compare-and-set): a compaction, restore or
   * deletion that got there first wins, and this returns false.
   */
  async replaceContentIf(
    table: ContentTable,
    key: ContentKey,
    expected: Uint8Array,
    value: Uint8Array,
  ): Promise<boolean> {
    const r =
      table === 'map_updates'
        ? await this.updateTable('map_updates')
            .set({ data: value })
            .where('map_id', '=', key.id)
            .where('seq', '=', key.seq)
            .where('data', '=', expected)
            .executeTakeFirst()
        : await this.updateTable(table)
            .set({ snapshot: value })
            .where('id', '=', key.id)
            .where('snapshot', '=', expected)
            .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}
