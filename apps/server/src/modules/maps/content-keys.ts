/**
 * Map content as a user of the tenant's data key (platform/crypto/data-key-rotation.ts): after a tenant key rotation,
 * the job `crypto.reencrypt_tenant` re-seals every snapshot, named version and update-log row still under an
 * older key version, so that the version can be destroyed.
 *
 * Rooms append log rows, and compaction replaces snapshots and deletes the rows it folded, at any moment. So
 * this holds no lock while it works: a page of headers, then the page's stale values, are read in short
 * transactions; the values are opened and sealed again outside any transaction, and written back in one short
 * transaction, each row only if it still holds the value that was read (compare-and-set). A row that changed meanwhile was rewritten by someone using
 * the active key, folded into a snapshot, or deleted with its map: it is skipped, never written twice and never
 * brought back. Appends insert new rows with new seqs, so they never meet a rewrite.
 */
import type {
  DataKeyRotation,
  DataKeyUser,
  UnreadableValue,
} from '../../platform/crypto/data-key-rotation.ts';
import type { Database } from '../../platform/db/connect.ts';
import { isLockConflict } from '../../platform/db/errors.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { contentRefs, STORED_HEAD_BYTES, storedKeyVersion, type MapContentStore } from './content.ts';
import { ContentRowsRepository, type ContentKey, type ContentTable } from './content-rows.ts';
import type { SealRef } from './ports.ts';

export const MAP_CONTENT_KEY_USER = 'map content (snapshots, versions, update log)';

export interface MapContentKeysOptions {
  /** Log rows per page (one read and at most one write transaction each). Default 200. */
  logBatchSize?: number;
  /** Snapshots (maps' and named versions') per page: they can be megabytes each. Default 20. */
  snapshotBatchSize?: number;
}

interface ContentKind {
  table: ContentTable;
  ref(key: ContentKey): SealRef;
  where(key: ContentKey): string;
  batchSize: number;
}

/** Registers map content with tenant key rotation, once per rotation (several apps may share a platform). */
export function registerMapContentKeys(
  dataKeys: DataKeyRotation,
  database: Database,
  content: MapContentStore,
  options: MapContentKeysOptions = {},
): void {
  if (dataKeys.registeredUsers().includes(MAP_CONTENT_KEY_USER)) return;
  dataKeys.register(mapContentKeyUser(database, content, options));
}

export function mapContentKeyUser(
  database: Database,
  content: MapContentStore,
  options: MapContentKeysOptions = {},
): DataKeyUser {
  const snapshots = options.snapshotBatchSize ?? 20;
  const kinds: ContentKind[] = [
    {
      table: 'maps',
      ref: (k) => contentRefs.snapshot(k.id),
      where: (k) => `maps ${k.id} (snapshot)`,
      batchSize: snapshots,
    },
    {
      table: 'map_versions',
      ref: (k) => contentRefs.version(k.id),
      where: (k) => `map_versions ${k.id} (snapshot)`,
      batchSize: snapshots,
    },
    {
      table: 'map_updates',
      ref: (k) => contentRefs.log(k.id),
      where: (k) => `map_updates ${k.id} #${k.seq}`,
      batchSize: options.logBatchSize ?? 200,
    },
  ];

  /** Calls `visit` with each page of (key, header) of the tenant's values of one kind, in key order. */
  const scan = async (
    tenantId: string,
    kind: ContentKind,
    visit: (page: { key: ContentKey; head: Uint8Array }[]) => Promise<void>,
  ) => {
    let after: ContentKey | undefined;
    for (;;) {
      const page = await withTenant(database, tenantId, (scope) =>
        new ContentRowsRepository(scope).contentHeads(kind.table, after, kind.batchSize, STORED_HEAD_BYTES),
      );
      after = page.at(-1)?.key;
      if (!after) return;
      await visit(page);
    }
  };

  /** The key version a stored value names; undefined when plain; a report and null when unreadable. */
  const versionOf = (
    kind: ContentKind,
    key: ContentKey,
    stored: Uint8Array,
    report?: (value: UnreadableValue) => void,
  ): number | undefined | null => {
    try {
      return storedKeyVersion(stored);
    } catch (err) {
      report?.({ where: kind.where(key), reason: messageOf(err) });
      return null;
    }
  };

  return {
    name: MAP_CONTENT_KEY_USER,

    async reencrypt(tenantId, activeVersion, heartbeat, report) {
      const isStale = (v: number | undefined | null): v is number =>
        typeof v === 'number' && v !== activeVersion;
      let resealed = 0;
      let scannedSinceHeartbeat = 0;
      for (const kind of kinds) {
        await scan(tenantId, kind, async (page) => {
          const stale = page.filter((p) => isStale(versionOf(kind, p.key, p.head, report)));
          const values = stale.length
            ? await withTenant(database, tenantId, (scope) =>
                new ContentRowsRepository(scope).contentValues(
                  kind.table,
                  stale.map((p) => p.key),
                ),
              )
            : [];
          // Opened and sealed again outside any transaction: a room's append never waits on this work.
          const writes: { key: ContentKey; old: Uint8Array; value: Uint8Array }[] = [];
          for (const { key, value: old } of values) {
            const version = versionOf(kind, key, old, report);
            if (!isStale(version)) continue; // replaced since the page was read
            try {
              writes.push({ key, old, value: await content.reseal(tenantId, kind.ref(key), old) });
            } catch (err) {
              report?.({ where: kind.where(key), keyVersion: version, reason: messageOf(err) });
              if (!report) throw err;
            }
          }
          if (writes.length) resealed += await writeBack(database, tenantId, kind.table, writes);
          // After every page that had work, and every 1,000 rows otherwise (a mostly current tenant).
          scannedSinceHeartbeat += page.length;
          if (stale.length || scannedSinceHeartbeat >= 1_000) {
            scannedSinceHeartbeat = 0;
            await heartbeat();
          }
        });
      }
      return resealed;
    },

    async versionsInUse(tenantId) {
      const counts = new Map<number, number>();
      for (const kind of kinds)
        await scan(tenantId, kind, async (page) => {
          for (const { key, head } of page) {
            const v = versionOf(kind, key, head);
            if (typeof v === 'number') counts.set(v, (counts.get(v) ?? 0) + 1);
          }
        });
      return counts;
    },
  };
}

/**
 * Writes re-sealed values back in one short transaction, each only if unchanged; returns how many were written.
 * Rows are visited in key order, as compaction deletes them, so the two cannot deadlock in practice; if the
 * database still picks this transaction as a deadlock victim, it is simply run again (compare-and-set).
 */
async function writeBack(
  database: Database,
  tenantId: string,
  table: ContentTable,
  writes: { key: ContentKey; old: Uint8Array; value: Uint8Array }[],
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTenant(database, tenantId, async (scope) => {
        const repo = new ContentRowsRepository(scope);
        let n = 0;
        for (const w of writes) if (await repo.replaceContentIf(table, w.key, w.old, w.value)) n++;
        return n;
      });
    } catch (err) {
      if (attempt >= 3 || !isLockConflict(err)) throw err;
    }
  }
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));
