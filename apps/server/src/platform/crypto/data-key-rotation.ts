/**
 * Tenant data key rotation: `DataKeyRotation.rotate` adds a version that new writes use at once; the job
 * `crypto.reencrypt_tenant` re-seals every registered user of the key (sealed columns, blob stores, map content)
 * and destroys the old version only once none of them uses it, and not before every node's key cache has
 * expired. (The root key's rotation is in rotation.ts.)
 */
import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/connect.ts';
import type { Tables } from '../db/schema.ts';
import { withSystemContext, withTenant } from '../db/tenant.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { Cipher } from './cipher.ts';
import type { TenantKeyStore } from './tenant-keys.ts';
import { sealedKeyVersion } from './value-format.ts';

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
