/**
 * A map's content in SQL: a sealed snapshot plus a dense, sealed update log after it. The log is the truth
 * co-editing acknowledges against; compaction folds it into the snapshot. Sealing happens outside the
 * transactions (the cipher may need its own to load the tenant key, and SQLite has one connection).
 */
import { MindMap, ServerReplica } from '@canopy/model';
import type { Clock } from '../../platform/clock.ts';
import { VALUE_FORMAT_VERSION } from '../../platform/crypto/value-format.ts';
import type { Database } from '../../platform/db/connect.ts';
import { withSystemContext, withTenant } from '../../platform/db/tenant.ts';
import type { ContentSealer, SealRef } from './ports.ts';
import { MapsRepository, type AppendOutcome } from './repository.ts';
import { sqliteLogWriter } from './sqlite-log-writer.ts';

/** First byte of a stored content value: how the rest is to be read. */
const PLAIN = 0x00;
const SEALED = 0x01;

/** Where each kind of content value is sealed (the AAD binds it there). All log rows of a map share one. */
export const contentRefs = {
  snapshot: (mapId: string): SealRef => ({ table: 'maps', id: mapId, column: 'snapshot' }),
  version: (versionId: string): SealRef => ({ table: 'map_versions', id: versionId, column: 'snapshot' }),
  log: (mapId: string): SealRef => ({ table: 'map_updates', id: mapId, column: 'data' }),
};

/** How many leading bytes of a stored value `storedKeyVersion` needs: tag, format, key version. */
export const STORED_HEAD_BYTES = 6;

/**
 * The tenant data-key version a stored content value (or its first `STORED_HEAD_BYTES`) is sealed under,
 * read from its header without opening it; undefined for a value stored plain.
 */
export function storedKeyVersion(head: Uint8Array): number | undefined {
  if (head[0] === PLAIN) return undefined;
  if (head[0] !== SEALED || head.byteLength < STORED_HEAD_BYTES || head[1] !== VALUE_FORMAT_VERSION)
    throw new Error('map content in an unknown storage format');
  return Buffer.from(head.buffer, head.byteOffset, head.byteLength).readUInt32BE(2);
}

/** Stores content as-is (marked plain) until platform/crypto is wired. */
export const plaintextSealer: ContentSealer = {
  seal: async (_t, _r, plaintext) => plaintext,
  sealerFor: async () => (plaintext) => plaintext,
  open: async (_t, _r, sealed) => sealed,
};

export interface AppendEntry {
  accountId: string;
  data: Uint8Array;
}

export type AppendResult = AppendOutcome;

/** `MapContentStore.commit`'s answer: committed now, durable once `durable` resolves. */
export type CommittedAppend = AppendOutcome & { durable: Promise<void> };

const DURABLE = Promise.resolve();
/** Maps per statement in `heads` (bound parameters stay well under every dialect's limit). */
const HEADS_PER_READ = 500;

export interface LogTail {
  /** Present when the log no longer reaches back to `afterSeq` (compacted): import this first. */
  snapshot?: Uint8Array;
  entries: { seq: number; data: Uint8Array }[];
  headSeq: number;
}

export { canWrite } from './repository.ts';

/** A map loaded for a co-editing room: its replica, the seq it reflects, and the stored bytes it came from. */
export interface LoadedReplica {
  replica: ServerReplica;
  seq: number;
  stored: { snapshot: Uint8Array; updates: Uint8Array[] };
}

export class MapContentStore {
  constructor(
    private readonly database: Database,
    private readonly sealer: ContentSealer,
    private readonly clock: Clock,
    private readonly sealed: boolean,
  ) {}

  private async pack(tenantId: string, ref: SealRef, bytes: Uint8Array): Promise<Uint8Array> {
    if (!this.sealed) return prefixed(PLAIN, bytes);
    return prefixed(SEALED, await this.sealer.seal(tenantId, ref, bytes));
  }

  private async unpack(tenantId: string, ref: SealRef, stored: Uint8Array): Promise<Uint8Array> {
    const body = stored.subarray(1);
    if (stored[0] === PLAIN) return body;
    if (stored[0] === SEALED) return new Uint8Array(await this.sealer.open(tenantId, ref, body));
    throw new Error(`map content in an unknown storage format (${stored[0]})`);
  }

  packSnapshot(tenantId: string, mapId: string, snapshot: Uint8Array): Promise<Uint8Array> {
    return this.pack(tenantId, contentRefs.snapshot(mapId), snapshot);
  }

  openSnapshot(tenantId: string, mapId: string, stored: Uint8Array): Promise<Uint8Array> {
    return this.unpack(tenantId, contentRefs.snapshot(mapId), stored);
  }

  packVersion(tenantId: string, versionId: string, snapshot: Uint8Array): Promise<Uint8Array> {
    return this.pack(tenantId, contentRefs.version(versionId), snapshot);
  }

  openVersion(tenantId: string, versionId: string, stored: Uint8Array): Promise<Uint8Array> {
    return this.unpack(tenantId, contentRefs.version(versionId), stored);
  }

  /**
   * A stored value opened and sealed again under the tenant's active key, in the same format (tenant key
   * rotation, content-keys.ts). Throws when it does not open.
   */
  async reseal(tenantId: string, ref: SealRef, stored: Uint8Array): Promise<Uint8Array> {
    return this.pack(tenantId, ref, await this.unpack(tenantId, ref, stored));
  }

  private logRef(mapId: string): SealRef {
    return contentRefs.log(mapId);
  }

  /**
   * Appends the entries whose author may still write (checked in the same transaction, so a demotion is
   * effective for every later commit) and returns their seqs. When this resolves, the rows are committed and
   * durable (on SQLite: synchronous=FULL, fsynced). On SQLite the transaction is one synchronous call of
   * prepared statements (sqlite-log-writer.ts).
   */
  async append(tenantId: string, mapId: string, entries: AppendEntry[]): Promise<AppendResult> {
    const packed = await this.packEntries(tenantId, mapId, entries);
    const now = this.clock.now().getTime();
    const { sqlite, dialect } = this.database;
    if (sqlite) return sqlite.host(sqliteLogWriter).call('append', { tenantId, mapId, entries: packed, now });
    if (dialect === 'sqlite') throw new Error('a SQLite database without its procedure host');
    return withTenant(this.database, tenantId, (scope) =>
      new MapsRepository(scope).appendEntries(dialect, mapId, packed, now),
    );
  }

  /**
   * `append` for a co-editing room: `relay` is told which entries the role check accepted as soon as it knows,
   * before the commit; this resolves once the transaction has committed, with `durable`, which resolves once
   * the rows survive power loss (and rejects if that failed). On SQLite `relay` runs inside the transaction,
   * its write lock held, before the rows are sealed and written; the transaction skips SQLite's own sync and
   * the WAL is synced off the event loop (`SqliteProcedures.syncWal`). On PostgreSQL and MySQL `relay` runs
   * after the commit, which is durable when it returns (docs/protocol/collab.md R10, R11). `relay` must not
   * throw; it is not called when the map is gone.
   */
  async commit(
    tenantId: string,
    mapId: string,
    entries: AppendEntry[],
    relay: (accepted: boolean[]) => void,
  ): Promise<CommittedAppend> {
    const { sqlite } = this.database;
    if (!sqlite) {
      const outcome = await this.append(tenantId, mapId, entries);
      if (outcome.kind === 'appended') relay(outcome.accepted);
      return { ...outcome, durable: DURABLE };
    }
    const sealer = this.sealed ? await this.sealer.sealerFor(tenantId, this.logRef(mapId)) : undefined;
    const seal = sealer
      ? (data: Uint8Array) => prefixed(SEALED, sealer(data))
      : (data: Uint8Array) => prefixed(PLAIN, data);
    const now = this.clock.now().getTime();
    const outcome = await sqlite
      .host(sqliteLogWriter)
      .call('appendRelayed', { tenantId, mapId, entries, now, seal, relay });
    if (outcome.kind === 'gone') return { ...outcome, durable: DURABLE };
    const durable = sqlite.syncWal();
    // Marked handled at once: the caller may await other work before it awaits this (it still sees a failure).
    durable.catch(() => undefined);
    return { ...outcome, durable };
  }

  private packEntries(tenantId: string, mapId: string, entries: AppendEntry[]) {
    return Promise.all(
      entries.map(async (e) => ({
        accountId: e.accountId,
        data: await this.pack(tenantId, this.logRef(mapId), e.data),
      })),
    );
  }

  /** What a replica at `afterSeq` lacks. */
  async readAfter(tenantId: string, mapId: string, afterSeq: number): Promise<LogTail | undefined> {
    const raw = await withTenant(
      this.database,
      tenantId,
      async (scope) => {
        const repo = new MapsRepository(scope);
        const head = await repo.headOf(mapId);
        if (!head) return undefined;
        if (head.headSeq <= afterSeq) return { head, snapshot: undefined, entries: [] };
        const needSnapshot = afterSeq < head.snapshotSeq;
        const snapshot = needSnapshot ? (await repo.snapshotOf(mapId))?.snapshot : undefined;
        const entries = await repo.logAfter(mapId, needSnapshot ? head.snapshotSeq : afterSeq);
        return { head, snapshot, entries };
      },
      { readOnly: true },
    );
    if (!raw) return undefined;
    const entries = await Promise.all(
      raw.entries.map(async (e) => ({
        seq: e.seq,
        data: await this.unpack(tenantId, this.logRef(mapId), e.data),
      })),
    );
    const tail: LogTail = { entries, headSeq: entries.at(-1)?.seq ?? raw.head.headSeq };
    if (raw.snapshot) tail.snapshot = await this.openSnapshot(tenantId, mapId, raw.snapshot);
    return tail;
  }

  /**
   * The log's head of each of these maps (any tenants'), for a node's rooms checking whether they missed an
   * append (R21): one read per `HEADS_PER_READ` maps, whatever their tenants (`(tenant_id, id) IN (...)`, on
   * the primary key in all three databases), where `readAfter` is a transaction per map. Tenancy is waived for
   * it (a head is a number, no content, and the statement asks for exact tenant and map pairs): a read per
   * tenant cost as many transactions every check as tenants with rooms open (600 rooms in 600 tenants on
   * PostgreSQL: 130-270 ms against 12-20 ms). By tenant, then map; a map that is gone has no entry.
   */
  async heads(
    maps: readonly { tenantId: string; mapId: string }[],
  ): Promise<Map<string, Map<string, number>>> {
    const heads = new Map<string, Map<string, number>>();
    for (let i = 0; i < maps.length; i += HEADS_PER_READ) {
      const chunk = maps.slice(i, i + HEADS_PER_READ);
      const rows = await withSystemContext(
        this.database,
        "collab: the log heads of the maps open on this node (the rooms' periodic check)",
        (trx) =>
          trx
            .selectFrom('maps')
            .select(['tenant_id', 'id', 'head_seq'])
            .where((eb) =>
              eb(
                eb.refTuple('tenant_id', 'id'),
                'in',
                chunk.map((m) => eb.tuple(m.tenantId, m.mapId)),
              ),
            )
            .execute(),
      );
      for (const row of rows) {
        let tenant = heads.get(row.tenant_id);
        if (!tenant) heads.set(row.tenant_id, (tenant = new Map<string, number>()));
        tenant.set(row.id, Number(row.head_seq));
      }
    }
    return heads;
  }

  /** `load` for a co-editing room: the map as a `ServerReplica` (one Loro document, no view, no undo). */
  async loadReplica(tenantId: string, mapId: string): Promise<LoadedReplica | undefined> {
    const tail = await this.readAfter(tenantId, mapId, -1);
    if (!tail?.snapshot) return undefined;
    const updates = tail.entries.map((e) => e.data);
    const opened = ServerReplica.open(tail.snapshot, updates);
    if (!opened.ok)
      throw new Error(`map ${mapId}: the stored snapshot and log do not load: ${opened.error.message}`);
    return { replica: opened.value, seq: tail.headSeq, stored: { snapshot: tail.snapshot, updates } };
  }

  /**
   * `use` of the map as of its last acknowledged update and the seq it reflects, the map freed after it
   * (`MindMap.free`: Loro keeps a map that is not freed for the life of the process); undefined if the map is
   * gone. `use` returns what outlives the map (plain objects, bytes).
   */
  async read<T>(
    tenantId: string,
    mapId: string,
    use: (map: MindMap, seq: number) => T,
  ): Promise<T | undefined> {
    const loaded = await this.load(tenantId, mapId);
    if (!loaded) return undefined;
    try {
      return use(loaded.map, loaded.seq);
    } finally {
      loaded.map.free();
    }
  }

  /** The map as of its last acknowledged update, and the seq it reflects; the caller frees it (`read` does). */
  async load(tenantId: string, mapId: string): Promise<{ map: MindMap; seq: number } | undefined> {
    const tail = await this.readAfter(tenantId, mapId, -1);
    if (!tail?.snapshot) return undefined;
    const map = replay(mapId, tail.snapshot, tail.entries);
    return { map, seq: tail.headSeq };
  }

  /**
   * Folds the log into the snapshot in one transaction. The map row stays locked from the read to the write,
   * so no append lands in between (on SQLite the transaction is the single writer anyway).
   */
  async compact(tenantId: string, mapId: string): Promise<{ folded: number } | undefined> {
    const tail = await this.readAfter(tenantId, mapId, -1);
    if (!tail?.snapshot) return undefined;
    if (tail.entries.length === 0) return { folded: 0 };
    // Build outside the lock; inside, fold only what we read (newer entries stay in the log, after the snapshot).
    const map = replay(mapId, tail.snapshot, tail.entries);
    let state: { snapshot: Uint8Array; title: string; seq: number };
    try {
      state = { snapshot: map.exportSnapshot(), title: map.toJSON().title, seq: tail.headSeq };
    } finally {
      map.free();
    }
    return this.compactTo(tenantId, mapId, state);
  }

  /**
   * Folds the log up to `state.seq` into `state.snapshot`, which must be the map as of that seq (the snapshot
   * and every log entry up to it, nothing after). A co-editing room holds exactly that when it is idle, which
   * spares reading and replaying the log.
   */
  async compactTo(
    tenantId: string,
    mapId: string,
    state: { snapshot: Uint8Array; title: string; seq: number },
  ): Promise<{ folded: number } | undefined> {
    const packed = await this.packSnapshot(tenantId, mapId, state.snapshot);
    const { sqlite } = this.database;
    if (sqlite) {
      const { seq, title } = state;
      const folded = await sqlite
        .host(sqliteLogWriter)
        .call('compactTo', { tenantId, mapId, snapshot: packed, seq, title });
      // Committed without SQLite's sync on the event loop (sqlite-log-writer.ts); durable once this returns.
      await sqlite.syncWal();
      return folded;
    }
    return withTenant(this.database, tenantId, async (scope) => {
      const repo = new MapsRepository(scope);
      if (!(await repo.lockMap(mapId))) return undefined;
      const now = await repo.headOf(mapId);
      if (!now || now.snapshotSeq >= state.seq || now.headSeq < state.seq) return { folded: 0 };
      await repo.replaceSnapshot(mapId, packed, state.seq);
      // The row's title (for lists) follows the document's at each compaction.
      await repo.setTitle(mapId, state.title);
      return { folded: state.seq - now.snapshotSeq };
    });
  }
}

/**
 * Snapshot + log -> map. The entries were validated when they were appended, so they are imported together
 * (one Loro batch) and the result is validated once by `fromSnapshot`, not once per entry (O(n) not O(n²)).
 */
function replay(mapId: string, snapshot: Uint8Array, entries: { seq: number; data: Uint8Array }[]): MindMap {
  const opened = MindMap.fromSnapshotAndUpdates(
    snapshot,
    entries.map((e) => e.data),
  );
  if (!opened.ok)
    throw new Error(`map ${mapId}: the stored snapshot and log do not load: ${opened.error.message}`);
  return opened.value;
}

function prefixed(tag: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.byteLength + 1);
  out[0] = tag;
  out.set(bytes, 1);
  return out;
}
