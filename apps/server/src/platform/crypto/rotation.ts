/**
 * Key rotation.
 *
 * Root key (KEK): `rotateRootKey` adds a keyring version and re-wraps every tenant key with it, in batches,
 * each row updated on its own only if it still names the version it was read with. Progress is a row in
 * `crypto_rotations`; a run that dies is finished by the next run (which resumes the unfinished rotation rather
 * than adding another version). When no wrapped key names an older version, that version is marked retired
 * in the keyring (kept, so backups taken before the rotation stay readable).
 *
 * Tenant data key: `DataKeyRotation.rotate` adds a version that new writes use at once; the job
 * `crypto.reencrypt_tenant` re-seals every registered user of the key (sealed columns, blob stores) and destroys
 * the old version only once none of them uses it, and not before every node's key cache has expired.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/connect.ts';
import type { Tables } from '../db/schema.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { withSystemContext, withTenant } from '../db/tenant.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { Cipher } from './cipher.ts';
import { dataKeyAad, type TenantKeyStore } from './tenant-keys.ts';
import { sealedKeyVersion } from './value-format.ts';

export class RotationInProgressError extends Error {
  constructor(owner: string, sinceMs: number) {
    super(
      `another root key rotation (${owner}) is running, last seen ${Math.round(sinceMs / 1000)} s ago; wait for it, or if it died, run again once it has been silent for ${ROTATION_LOCK_STALE_MS / 1000} s`,
    );
    this.name = 'RotationInProgressError';
  }
}

const ROTATION_LOCK = 'crypto.kek_rotation.lock';
/** A rotation that has not touched its lock for this long is taken to have died; the next run takes over. */
export const ROTATION_LOCK_STALE_MS = 60_000;

/** One root-key rotation at a time, across processes: a row in system_settings, refreshed after each batch. */
async function acquireRotationLock(
  database: Database,
  clock: Clock,
  owner: string,
): Promise<{ refresh: () => Promise<void>; release: () => Promise<void> }> {
  const db = database.db;
  const now = () => clock.now().getTime();
  try {
    await db
      .insertInto('system_settings')
      .values({ key: ROTATION_LOCK, value: owner, updated_at: now() })
      .execute();
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    const held = await db
      .selectFrom('system_settings')
      .selectAll()
      .where('key', '=', ROTATION_LOCK)
      .executeTakeFirst();
    const age = held ? now() - Number(held.updated_at) : Infinity;
    if (held && age < ROTATION_LOCK_STALE_MS) throw new RotationInProgressError(held.value, age);
    const taken = held
      ? await db
          .updateTable('system_settings')
          .set({ value: owner, updated_at: now() })
          .where('key', '=', ROTATION_LOCK)
          .where('value', '=', held.value)
          .where('updated_at', '=', held.updated_at)
          .executeTakeFirst()
      : undefined;
    if (!taken || Number(taken.numUpdatedRows) !== 1) throw new RotationInProgressError('unknown', 0);
  }
  return {
    refresh: async () => {
      const r = await db
        .updateTable('system_settings')
        .set({ updated_at: now() })
        .where('key', '=', ROTATION_LOCK)
        .where('value', '=', owner)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1)
        throw new Error(
          'lost the root key rotation lock to another process (this run was silent too long); run the rotation again',
        );
    },
    release: async () =>
      void (await db
        .deleteFrom('system_settings')
        .where('key', '=', ROTATION_LOCK)
        .where('value', '=', owner)
        .execute()),
  };
}

export interface RootKeyRotationResult {
  kekVersion: number;
  rewrapped: number;
  resumed: boolean;
  retiredVersions: number[];
}

/** Re-wraps every tenant key under a new root key version. Safe to run again after a crash: it finishes the job. */
export async function rotateRootKey(
  deps: { database: Database; keys: TenantKeyStore; clock: Clock; logger?: Logger },
  options: { batchSize?: number; onProgress?: (done: number) => void } = {},
): Promise<RootKeyRotationResult> {
  const lock = await acquireRotationLock(deps.database, deps.clock, `rotation-${randomUUID()}`);
  try {
    return await rotateRootKeyLocked(deps, options, lock.refresh);
  } finally {
    await lock.release();
  }
}

async function rotateRootKeyLocked(
  deps: { database: Database; keys: TenantKeyStore; clock: Clock; logger?: Logger },
  options: { batchSize?: number; onProgress?: (done: number) => void },
  refreshLock: () => Promise<void>,
): Promise<RootKeyRotationResult> {
  const { database, keys, clock } = deps;
  const provider = keys.provider;
  const batchSize = options.batchSize ?? 200;
  const now = () => clock.now().getTime();

  const unfinished = await withSystemContext(database, 'root key rotation: find unfinished run', (trx) =>
    trx
      .selectFrom('crypto_rotations')
      .selectAll()
      .where('kind', '=', 'kek')
      .where('state', '=', 'running')
      .orderBy('started_at', 'desc')
      .executeTakeFirst(),
  );
  let rotationId: string;
  let target: number;
  let processed = 0;
  if (unfinished && unfinished.to_version === (await provider.currentVersion())) {
    rotationId = unfinished.id;
    target = Number(unfinished.to_version);
    processed = Number(unfinished.processed);
  } else {
    const from = await provider.currentVersion();
    target = await provider.addVersion();
    rotationId = randomUUID();
    await withSystemContext(database, 'root key rotation: record start', async (trx) => {
      // A run that died before a newer version was added is superseded by this one.
      await trx
        .updateTable('crypto_rotations')
        .set({ state: 'done', finished_at: now(), updated_at: now() })
        .where('kind', '=', 'kek')
        .where('state', '=', 'running')
        .execute();
      await trx
        .insertInto('crypto_rotations')
        .values({
          id: rotationId,
          kind: 'kek',
          tenant_id: null,
          from_version: from,
          to_version: target,
          state: 'running',
          processed: 0,
          started_at: now(),
          updated_at: now(),
          finished_at: null,
        })
        .execute();
    });
  }
  deps.logger?.info(
    { kekVersion: target, resumed: Boolean(unfinished && unfinished.id === rotationId) },
    'root key rotation started',
  );

  let rewrapped = 0;
  for (;;) {
    const done = await withSystemContext(database, 'root key rotation: re-wrap tenant keys', async (trx) => {
      const rows = await trx
        .selectFrom('tenant_data_keys')
        .select(['tenant_id', 'purpose', 'version', 'kek_version', 'wrapped_key'])
        .where('wrapped_key', 'is not', null)
        .where('kek_version', '<>', target)
        .orderBy('tenant_id')
        .orderBy('purpose')
        .orderBy('version')
        .limit(batchSize)
        .execute();
      for (const r of rows) {
        if (!r.wrapped_key || r.purpose === 'shredded') continue;
        const aad = dataKeyAad(r.tenant_id, r.purpose, Number(r.version));
        const plain = await provider.unwrap(Number(r.kek_version), r.wrapped_key, aad);
        const { kekVersion, wrapped } = await provider.wrap(plain, aad);
        if (kekVersion !== target)
          throw new Error(
            `the keyring's current version changed during rotation (${kekVersion}, expected ${target}); run the rotation again`,
          );
        await trx
          .updateTable('tenant_data_keys')
          .set({ wrapped_key: wrapped, kek_version: target })
          .where('tenant_id', '=', r.tenant_id)
          .where('purpose', '=', r.purpose)
          .where('version', '=', r.version)
          .where('kek_version', '=', r.kek_version)
          .execute();
      }
      processed += rows.length;
      await trx
        .updateTable('crypto_rotations')
        .set({ processed, updated_at: now() })
        .where('id', '=', rotationId)
        .execute();
      return rows;
    });
    rewrapped += done.length;
    await refreshLock();
    options.onProgress?.(rewrapped);
    if (done.length < batchSize) break;
  }

  const retiredVersions: number[] = [];
  const inUse = await withSystemContext(database, 'root key rotation: versions in use', (trx) =>
    trx
      .selectFrom('tenant_data_keys')
      .select('kek_version')
      .distinct()
      .where('wrapped_key', 'is not', null)
      .execute(),
  );
  const used = new Set(inUse.map((r) => Number(r.kek_version)));
  for (const v of await provider.listVersions()) {
    if (v.version !== target && !v.retiredAt && !used.has(v.version)) {
      await provider.retireVersion(v.version);
      retiredVersions.push(v.version);
    }
  }
  await withSystemContext(database, 'root key rotation: record end', (trx) =>
    trx
      .updateTable('crypto_rotations')
      .set({ state: 'done', finished_at: now(), updated_at: now() })
      .where('id', '=', rotationId)
      .execute(),
  );
  keys.invalidate();
  deps.logger?.info({ kekVersion: target, rewrapped, retiredVersions }, 'root key rotation finished');
  return { kekVersion: target, rewrapped, resumed: unfinished?.id === rotationId, retiredVersions };
}

/** A value that a re-encryption pass could not re-seal because it does not open; it is left as it was. */
export interface UnreadableValue {
  /** Where it is, e.g. `map_updates <map id> #<seq>`: enough for an operator to find the row. */
  where: string;
  /** The key version its header names, when the header is readable. */
  keyVersion?: number;
  reason: string;
}

/** Something that holds values sealed under a tenant's data key: a sealed column, a blob store. */
export interface DataKeyUser {
  readonly name: string;
  /**
   * Re-seals the tenant's values that use any other version than `activeVersion`; returns how many. A user
   * that can go on past a value that does not open tells `report` and leaves the value as it is (its version
   * then stays in use, so the key is kept); one without `report` support throws instead.
   */
  reencrypt(
    tenantId: string,
    activeVersion: number,
    heartbeat: () => Promise<void>,
    report?: (value: UnreadableValue) => void,
  ): Promise<number>;
  /** How many of the tenant's values use each key version. */
  versionsInUse(tenantId: string): Promise<Map<number, number>>;
}

export interface SealedColumnSpec {
  table: string;
  column: string;
  /** The record id column, unique within a tenant; the value's AAD uses it. Default 'id'. */
  idColumn?: string;
}

// Registered columns belong to modules' tables, which the platform does not know the types of.
type AnyTables = Record<string, Record<string, unknown>>;

/** A sealed column of a tenant-owned table (with `tenant_id`), re-encrypted in batches of `batchSize` rows. */
export function sealedColumn(
  database: Database,
  cipher: Cipher,
  spec: SealedColumnSpec,
  batchSize = 200,
): DataKeyUser {
  const idColumn = spec.idColumn ?? 'id';
  const scan = async (
    tenantId: string,
    visit: (trx: Transaction<AnyTables>, id: string, value: Buffer) => Promise<void>,
  ) => {
    let cursor: string | undefined;
    for (;;) {
      const rows = await withTenant(database, tenantId, async (scope) => {
        const trx = scope.trx as unknown as Transaction<AnyTables>;
        let q = trx
          .selectFrom(spec.table)
          .select([sql.ref<string>(idColumn).as('id'), sql.ref<Buffer | null>(spec.column).as('value')])
          .where(sql.ref('tenant_id'), '=', tenantId)
          .orderBy(sql.ref(idColumn))
          .limit(batchSize);
        if (cursor !== undefined) q = q.where(sql.ref(idColumn), '>', cursor);
        const batch = (await q.execute()) as { id: string; value: Buffer | null }[];
        for (const r of batch) if (r.value) await visit(trx, String(r.id), Buffer.from(r.value));
        return batch;
      });
      const last = rows[rows.length - 1];
      if (!last || rows.length < batchSize) return;
      cursor = String(last.id);
    }
  };
  return {
    name: `column ${spec.table}.${spec.column}`,
    async reencrypt(tenantId, activeVersion, heartbeat) {
      let n = 0;
      await scan(tenantId, async (trx, id, value) => {
        if (sealedKeyVersion(value) === activeVersion) return;
        const ref = { table: spec.table, id, column: spec.column };
        const scope = { tenantId, trx: trx as unknown as Transaction<Tables> };
        const resealed = await cipher.seal(scope, ref, await cipher.open(scope, ref, value));
        // Only if nobody wrote the value meanwhile (their write already used the active key).
        await trx
          .updateTable(spec.table)
          .set({ [spec.column]: resealed })
          .where(sql.ref('tenant_id'), '=', tenantId)
          .where(sql.ref(idColumn), '=', id)
          .where(sql.ref(spec.column), '=', value)
          .execute();
        n++;
        if (n % 500 === 0) await heartbeat();
      });
      return n;
    },
    async versionsInUse(tenantId) {
      const counts = new Map<number, number>();
      await scan(tenantId, async (_trx, _id, value) => {
        const v = sealedKeyVersion(value);
        counts.set(v, (counts.get(v) ?? 0) + 1);
      });
      return counts;
    },
  };
}

export interface ReencryptResult {
  resealed: number;
  retired: number[];
  /** Retiring versions still in use, or too recently rotated for every node to have noticed. */
  pending: number[];
  /** Present when some values did not open (left as they were): how many, and the first hundred. */
  unreadable?: { count: number; values: (UnreadableValue & { user: string })[] };
}

const UNREADABLE_LISTED = 100;

export const REENCRYPT_JOB = 'crypto.reencrypt_tenant';

export class DataKeyRotation {
  private readonly users: DataKeyUser[] = [];

  constructor(
    private readonly deps: {
      database: Database;
      keys: TenantKeyStore;
      cipher: Cipher;
      clock: Clock;
      logger: Logger;
      jobs?: JobQueue;
    },
  ) {}

  register(user: DataKeyUser): void {
    this.users.push(user);
  }

  registerColumn(spec: SealedColumnSpec): void {
    this.register(sealedColumn(this.deps.database, this.deps.cipher, spec));
  }

  registeredUsers(): string[] {
    return this.users.map((u) => u.name);
  }

  /** Adds a new data key version for the tenant and, with a job queue, schedules the re-encryption. */
  async rotate(tenantId: string): Promise<{ from: number | undefined; to: number }> {
    const { database, keys, clock, jobs } = this.deps;
    const result = await keys.rotate(tenantId);
    const now = clock.now().getTime();
    await withSystemContext(database, 'tenant key rotation: record start', (trx) =>
      trx
        .insertInto('crypto_rotations')
        .values({
          id: randomUUID(),
          kind: 'data_key',
          tenant_id: tenantId,
          from_version: result.from ?? null,
          to_version: result.to,
          state: 'running',
          processed: 0,
          started_at: now,
          updated_at: now,
          finished_at: null,
        })
        .execute(),
    );
    if (jobs)
      await jobs.enqueue(
        REENCRYPT_JOB,
        { tenantId },
        { runAt: new Date(now + keys.cacheTtlMs + 1_000), key: `${REENCRYPT_JOB}:${tenantId}` },
      );
    return result;
  }

  /** Re-seals everything under the active key, then destroys retiring versions that nothing uses. */
  async reencryptTenant(
    tenantId: string,
    heartbeat: () => Promise<void> = async () => {},
  ): Promise<ReencryptResult> {
    const { database, keys, clock } = this.deps;
    const { version: active } = await keys.activeKey(tenantId, 'data');
    let resealed = 0;
    const byUser: Record<string, number> = {};
    const unreadable = { count: 0, values: [] as (UnreadableValue & { user: string })[] };
    for (const user of this.users) {
      const report = (value: UnreadableValue) => {
        unreadable.count++;
        if (unreadable.values.length < UNREADABLE_LISTED)
          unreadable.values.push({ ...value, user: user.name });
      };
      const n = await user.reencrypt(tenantId, active, heartbeat, report);
      resealed += n;
      if (n) byUser[user.name] = n;
    }

    const retiring = await keys.retiringVersions(tenantId);
    const rotations = await withSystemContext(database, 'tenant key rotation: progress', (trx) =>
      trx
        .selectFrom('crypto_rotations')
        .selectAll()
        .where('kind', '=', 'data_key')
        .where('tenant_id', '=', tenantId)
        .where('state', '=', 'running')
        .execute(),
    );
    const lastRotation = rotations.reduce((m, r) => Math.max(m, Number(r.started_at)), 0);
    // Another node may still be sealing with a retiring key until its cache entry expires.
    const settled = clock.now().getTime() >= lastRotation + keys.cacheTtlMs;
    const inUse = new Set<number>();
    for (const user of this.users)
      for (const [v, n] of await user.versionsInUse(tenantId)) if (n > 0) inUse.add(v);
    const retired: number[] = [];
    const pending: number[] = [];
    for (const v of retiring) {
      if (settled && !inUse.has(v)) {
        await keys.retire(tenantId, v);
        retired.push(v);
      } else pending.push(v);
    }
    const now = clock.now().getTime();
    await withSystemContext(database, 'tenant key rotation: progress', async (trx) => {
      await trx
        .updateTable('crypto_rotations')
        .set(
          pending.length
            ? { processed: sql`processed + ${resealed}`, updated_at: now }
            : { processed: sql`processed + ${resealed}`, updated_at: now, state: 'done', finished_at: now },
        )
        .where('kind', '=', 'data_key')
        .where('tenant_id', '=', tenantId)
        .where('state', '=', 'running')
        .execute();
    });
    this.deps.logger.info(
      { tenantId, resealed, byUser, retired, pending },
      'tenant data key re-encryption pass',
    );
    if (unreadable.count) {
      this.deps.logger.error(
        { tenantId, unreadable: unreadable.count, values: unreadable.values },
        'tenant data key re-encryption: values that do not open were left under their old key',
      );
      return { resealed, retired, pending, unreadable };
    }
    return { resealed, retired, pending };
  }

  /** Defines the re-encryption job on the queue (retried with backoff while versions are still pending). */
  defineJobs(jobs: JobQueue): void {
    jobs.define<{ tenantId: string }>(
      REENCRYPT_JOB,
      async ({ tenantId }, ctx) => {
        const r = await this.reencryptTenant(tenantId, async () => void (await ctx.extendLease()));
        if (r.pending.length)
          throw new Error(
            `key versions ${r.pending.join(', ')} of tenant ${tenantId} still pending; will retry` +
              (r.unreadable ? ` (${r.unreadable.count} values do not open and keep their old key)` : ''),
          );
      },
      { maxAttempts: 20, leaseMs: 10 * 60_000 },
    );
  }
}
