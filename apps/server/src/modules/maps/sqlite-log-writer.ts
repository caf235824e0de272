/**
 * The log append and the compaction's write on SQLite (`MapContentStore.append`, `compactTo`), as prepared
 * statements in one synchronous call (platform/db/sqlite-procedures.ts): no query building, and the write lock
 * is never held across event-loop turns. Same semantics as
 * `MapsRepository.appendEntries` (and the compaction's transaction) on PostgreSQL and MySQL: one IMMEDIATE
 * transaction holds SQLite's write lock from the map row's read to the commit, so the role check, the seq
 * reservation and the rows see one state.
 *
 * Tenancy: these statements do not go through a `TenantRepository`, so each one names `tenant_id` itself.
 */
import type SQLite from 'better-sqlite3';
import type { ProcedureModule, Procedures } from '../../platform/db/sqlite-procedures.ts';
import { canWrite, type AppendOutcome, type MapRole } from './repository.ts';

export interface SealedAppend {
  tenantId: string;
  mapId: string;
  /** Each entry's author and its sealed, stored bytes. */
  entries: { accountId: string; data: Uint8Array }[];
  now: number;
}

/**
 * A co-editing room's append (`appendRelayed`): the entries' bytes as sent, sealed inside the transaction by
 * `seal`; `relay` is told which the role check accepted, before anything is written.
 */
export interface RelayedAppend {
  tenantId: string;
  mapId: string;
  entries: { accountId: string; data: Uint8Array }[];
  now: number;
  /** The stored form of an accepted entry's bytes (sealed, tagged). Synchronous. */
  seal: (data: Uint8Array) => Uint8Array;
  /** Called once, right after the role check; must not throw. */
  relay: (accepted: boolean[]) => void;
}

export interface SealedCompaction {
  tenantId: string;
  mapId: string;
  /** The sealed, stored snapshot of the map as of `seq`. */
  snapshot: Uint8Array;
  seq: number;
  title: string;
}

interface LogWriter extends Procedures {
  append(args: SealedAppend): AppendOutcome;
  /**
   * `append` for a co-editing room: the entries are relayed as soon as the role check has accepted them (the
   * write lock held, so no role can change before the commit), then sealed and written; and the transaction
   * runs with `synchronous=NORMAL`, alone: it writes the WAL and skips SQLite's sync, so it returns without
   * waiting for the disk, and the caller syncs the WAL off the event loop (`SqliteProcedures.syncWal`) before
   * it acknowledges anything. Every other transaction stays FULL.
   */
  appendRelayed(args: RelayedAppend): AppendOutcome;
  /**
   * Folds the log up to `seq` into `snapshot`; undefined if the map is gone (see `MapContentStore.compactTo`).
   * With `synchronous=NORMAL`, as `appendRelayed`: the caller syncs the WAL off the event loop. A compaction lost
   * in a crash leaves the log it would have folded, and the map the same.
   */
  compactTo(args: SealedCompaction): { folded: number } | undefined;
}

const buffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export const sqliteLogWriter: ProcedureModule<LogWriter> = {
  prepare(raw: SQLite.Database): LogWriter {
    const seqs = raw.prepare<[string, string], { snapshot_seq: number; head_seq: number }>(
      'select snapshot_seq, head_seq from maps where tenant_id = ? and id = ?',
    );
    const replaceSnapshot = raw.prepare<[Buffer, number, string, string, string]>(
      'update maps set snapshot = ?, snapshot_seq = ?, title = ? where tenant_id = ? and id = ?',
    );
    const dropFolded = raw.prepare<[string, string, number]>(
      'delete from map_updates where tenant_id = ? and map_id = ? and seq <= ?',
    );
    const mapHead = raw.prepare<[string, string], { owner_id: string; head_seq: number }>(
      'select owner_id, head_seq from maps where tenant_id = ? and id = ?',
    );
    const shareRoles = raw.prepare<[string, string, string], { account_id: string; role: MapRole }>(
      `select account_id, role from map_shares
        where tenant_id = ? and map_id = ? and account_id in (select value from json_each(?))`,
    );
    const reserve = raw.prepare<[number, number, string, string]>(
      'update maps set head_seq = ?, updated_at = ? where tenant_id = ? and id = ?',
    );
    const insert = raw.prepare<[string, string, number, Buffer, string, number]>(
      `insert into map_updates (tenant_id, map_id, seq, data, account_id, created_at)
       values (?, ?, ?, ?, ?, ?)`,
    );
    const steps = (
      { tenantId, mapId, entries, now }: SealedAppend,
      seal: (data: Uint8Array) => Uint8Array,
      relay: (accepted: boolean[]) => void,
    ): AppendOutcome => {
      const map = mapHead.get(tenantId, mapId);
      if (!map) return { kind: 'gone' };
      const authors = [...new Set(entries.map((e) => e.accountId))];
      const roles = new Map<string, MapRole>();
      for (const s of shareRoles.all(tenantId, mapId, JSON.stringify(authors)))
        roles.set(s.account_id, s.role);
      if (authors.includes(map.owner_id)) roles.set(map.owner_id, 'owner');
      const accepted = entries.map((e) => canWrite(roles.get(e.accountId)));
      relay(accepted);
      const head = Number(map.head_seq);
      const count = accepted.filter(Boolean).length;
      if (count === 0) return { kind: 'appended', firstSeq: head + 1, headSeq: head, accepted };
      reserve.run(head + count, now, tenantId, mapId);
      let seq = head + 1;
      entries.forEach((e, i) => {
        if (!accepted[i]) return;
        insert.run(tenantId, mapId, seq++, buffer(seal(e.data)), e.accountId, now);
      });
      return { kind: 'appended', firstSeq: head + 1, headSeq: head + count, accepted };
    };
    const stored = (data: Uint8Array) => data;
    const unrelayed = () => undefined;
    const append = raw.transaction((args: SealedAppend) => steps(args, stored, unrelayed));
    const appendRelayed = raw.transaction((args: RelayedAppend) => steps(args, args.seal, args.relay));
    const compactTo = raw.transaction(({ tenantId, mapId, snapshot, seq, title }: SealedCompaction) => {
      const now = seqs.get(tenantId, mapId);
      if (!now) return undefined;
      if (now.snapshot_seq >= seq || now.head_seq < seq) return { folded: 0 };
      // The row's title (for lists) follows the document's at each compaction.
      replaceSnapshot.run(buffer(snapshot), seq, title.slice(0, 1000), tenantId, mapId);
      dropFolded.run(tenantId, mapId, seq);
      return { folded: seq - now.snapshot_seq };
    });
    const syncNormal = raw.prepare('PRAGMA synchronous = NORMAL');
    const syncFull = raw.prepare('PRAGMA synchronous = FULL');
    /** `run` with SQLite's sync at commit skipped (the caller syncs the WAL off the event loop); FULL after. */
    const unsynced = <T>(run: () => T): T => {
      syncNormal.run();
      try {
        return run();
      } finally {
        syncFull.run();
      }
    };
    return {
      append: (args) => append.immediate(args),
      appendRelayed: (args) => unsynced(() => appendRelayed.immediate(args)),
      compactTo: (args) => unsynced(() => compactTo.immediate(args)),
    };
  },
};
