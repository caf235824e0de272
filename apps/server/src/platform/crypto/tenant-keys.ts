/**
 * Tenant data keys: one random 256-bit key per tenant and purpose, stored wrapped by the root key, created on
 * first use, rotated on demand, destroyed by crypto-shredding. Unwrapped keys are cached in memory for a short
 * time (`cacheTtlMs`) and for a bounded number of tenants (`maxCachedTenants`, least recently used out first).
 */
import { randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/connect.ts';
import type { Tables } from '../db/schema.ts';
import { withTenant, type TenantScope } from '../db/tenant.ts';
import type { RootKeyProvider } from './keyring.ts';
import type { DataKeyPurpose, TenantDataKeysTable } from './tables.ts';
import { encodeFields } from './value-format.ts';
import './tables.ts';

/** The tenant id under which platform-wide secrets (signing keys, the mail outbox) are sealed. */
export const SYSTEM_TENANT = '__system__';

/** A tenant id, or an open tenant scope (pass the scope when inside its transaction: SQLite has one writer). */
export type KeyContext = string | TenantScope;

export class TenantKeysDestroyedError extends Error {
  constructor(tenantId: string) {
    super(
      `the data keys of tenant ${tenantId} were destroyed (crypto-shredded): its encrypted data is unreadable`,
    );
    this.name = 'TenantKeysDestroyedError';
  }
}

export class DataKeyMissingError extends Error {
  constructor(tenantId: string, purpose: string, version: number) {
    super(`tenant ${tenantId} has no usable ${purpose} key version ${version} (retired or never created)`);
    this.name = 'DataKeyMissingError';
  }
}

interface KeyRow {
  version: number;
  state: TenantDataKeysTable['state'];
  kekVersion: number;
  wrapped: Buffer | null;
}

interface KeySet {
  shredded: boolean;
  rows: Map<string, KeyRow>;
  active: Map<DataKeyPurpose, number>;
  unwrapped: Map<string, Buffer>;
  loadedAt: number;
}

export interface TenantKeyStoreOptions {
  cacheTtlMs?: number;
  maxCachedTenants?: number;
}

export function dataKeyAad(tenantId: string, purpose: string, version: number): Buffer {
  return encodeFields('canopy-data-key', [tenantId, purpose, String(version)]);
}

const rowKey = (purpose: string, version: number) => `${purpose}:${version}`;

export class TenantKeyStore {
  readonly cacheTtlMs: number;
  private readonly maxCachedTenants: number;
  private readonly cache = new Map<string, KeySet>();
  /** Called after this node rotated, retired or shredded a tenant's keys (see key-cache-bus.ts). */
  onChange: ((tenantId: string) => void) | undefined;

  constructor(
    private readonly database: Database,
    readonly provider: RootKeyProvider,
    private readonly clock: Clock,
    options: TenantKeyStoreOptions = {},
  ) {
    this.cacheTtlMs = options.cacheTtlMs ?? 60_000;
    this.maxCachedTenants = options.maxCachedTenants ?? 1_000;
  }

  private async inTenant<T>(
    ctx: KeyContext,
    fn: (trx: Transaction<Tables>, tenantId: string) => Promise<T>,
  ): Promise<T> {
    if (typeof ctx === 'string') return withTenant(this.database, ctx, (scope) => fn(scope.trx, ctx));
    return fn(ctx.trx, ctx.tenantId);
  }

  private async load(ctx: KeyContext): Promise<KeySet> {
    const rows = await this.inTenant(ctx, (trx, tenantId) =>
      trx.selectFrom('tenant_data_keys').selectAll().where('tenant_id', '=', tenantId).execute(),
    );
    const set: KeySet = {
      shredded: false,
      rows: new Map(),
      active: new Map(),
      unwrapped: new Map(),
      loadedAt: this.clock.now().getTime(),
    };
    for (const r of rows) {
      if (r.purpose === 'shredded') {
        set.shredded = true;
        continue;
      }
      const version = Number(r.version);
      set.rows.set(rowKey(r.purpose, version), {
        version,
        state: r.state,
        kekVersion: Number(r.kek_version),
        wrapped: r.wrapped_key,
      });
      if (r.state === 'active') set.active.set(r.purpose, Math.max(version, set.active.get(r.purpose) ?? 0));
    }
    return set;
  }

  private async keySet(ctx: KeyContext, fresh = false): Promise<KeySet> {
    const tenantId = typeof ctx === 'string' ? ctx : ctx.tenantId;
    const cached = this.cache.get(tenantId);
    const now = this.clock.now().getTime();
    if (!fresh && cached && now - cached.loadedAt < this.cacheTtlMs) {
      this.cache.delete(tenantId); // re-insert: Map order is the LRU order
      this.cache.set(tenantId, cached);
      return cached;
    }
    const set = await this.load(ctx);
    this.cache.delete(tenantId);
    this.cache.set(tenantId, set);
    while (this.cache.size > this.maxCachedTenants) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    return set;
  }

  private async unwrapRow(
    tenantId: string,
    set: KeySet,
    purpose: DataKeyPurpose,
    version: number,
  ): Promise<Buffer> {
    const k = rowKey(purpose, version);
    const hit = set.unwrapped.get(k);
    if (hit) return hit;
    const row = set.rows.get(k);
    if (!row?.wrapped) throw new DataKeyMissingError(tenantId, purpose, version);
    const key = await this.provider.unwrap(
      row.kekVersion,
      row.wrapped,
      dataKeyAad(tenantId, purpose, version),
    );
    set.unwrapped.set(k, key);
    return key;
  }

  /** The key new writes use; created on first use. */
  async activeKey(ctx: KeyContext, purpose: DataKeyPurpose): Promise<{ version: number; key: Buffer }> {
    const tenantId = typeof ctx === 'string' ? ctx : ctx.tenantId;
    let set = await this.keySet(ctx);
    if (set.shredded) throw new TenantKeysDestroyedError(tenantId);
    if (!set.active.has(purpose)) {
      await this.createFirst(ctx, purpose);
      set = await this.keySet(ctx, true);
      if (set.shredded) throw new TenantKeysDestroyedError(tenantId);
    }
    const version = set.active.get(purpose);
    if (version === undefined) throw new DataKeyMissingError(tenantId, purpose, 1);
    return { version, key: await this.unwrapRow(tenantId, set, purpose, version) };
  }

  /** A given version, for reading. Reloads once if this node has not seen that version yet. */
  async keyVersion(ctx: KeyContext, purpose: DataKeyPurpose, version: number): Promise<Buffer> {
    const tenantId = typeof ctx === 'string' ? ctx : ctx.tenantId;
    let set = await this.keySet(ctx);
    if (!set.shredded && !set.rows.has(rowKey(purpose, version))) set = await this.keySet(ctx, true);
    if (set.shredded) throw new TenantKeysDestroyedError(tenantId);
    return this.unwrapRow(tenantId, set, purpose, version);
  }

  private async createFirst(ctx: KeyContext, purpose: DataKeyPurpose): Promise<void> {
    const tenantId = typeof ctx === 'string' ? ctx : ctx.tenantId;
    const { kekVersion, wrapped } = await this.provider.wrap(
      randomBytes(32),
      dataKeyAad(tenantId, purpose, 1),
    );
    const row = {
      tenant_id: tenantId,
      purpose,
      version: 1,
      wrapped_key: wrapped,
      kek_version: kekVersion,
      state: 'active' as const,
      created_at: this.clock.now().getTime(),
      retired_at: null,
    };
    // Two nodes may race to create version 1: the first insert wins and both then read the winner's key.
    await this.inTenant(ctx, async (trx) => {
      const insert = trx.insertInto('tenant_data_keys').values(row);
      if (this.database.dialect === 'mysql') await insert.ignore().execute();
      else await insert.onConflict((oc) => oc.doNothing()).execute();
    });
  }

  /** Adds a new data key version and makes it the one new writes use; the old one becomes 'retiring'. */
  async rotate(tenantId: string): Promise<{ from: number | undefined; to: number }> {
    const result = await withTenant(this.database, tenantId, async ({ trx }) => {
      const rows = await trx
        .selectFrom('tenant_data_keys')
        .select(['purpose', 'version', 'state'])
        .where('tenant_id', '=', tenantId)
        .execute();
      if (rows.some((r) => r.purpose === 'shredded')) throw new TenantKeysDestroyedError(tenantId);
      const data = rows.filter((r) => r.purpose === 'data');
      const from = data
        .filter((r) => r.state === 'active')
        .reduce<number | undefined>((m, r) => Math.max(m ?? 0, Number(r.version)), undefined);
      const to = data.reduce((m, r) => Math.max(m, Number(r.version)), 0) + 1;
      const { kekVersion, wrapped } = await this.provider.wrap(
        randomBytes(32),
        dataKeyAad(tenantId, 'data', to),
      );
      await trx
        .updateTable('tenant_data_keys')
        .set({ state: 'retiring' })
        .where('tenant_id', '=', tenantId)
        .where('purpose', '=', 'data')
        .where('state', '=', 'active')
        .execute();
      await trx
        .insertInto('tenant_data_keys')
        .values({
          tenant_id: tenantId,
          purpose: 'data',
          version: to,
          wrapped_key: wrapped,
          kek_version: kekVersion,
          state: 'active',
          created_at: this.clock.now().getTime(),
          retired_at: null,
        })
        .execute();
      return { from, to };
    });
    this.changed(tenantId);
    return result;
  }

  /** Versions of the tenant's data key that are being re-encrypted away. */
  async retiringVersions(tenantId: string): Promise<number[]> {
    const rows = await withTenant(this.database, tenantId, ({ trx }) =>
      trx
        .selectFrom('tenant_data_keys')
        .select('version')
        .where('tenant_id', '=', tenantId)
        .where('purpose', '=', 'data')
        .where('state', '=', 'retiring')
        .execute(),
    );
    return rows.map((r) => Number(r.version));
  }

  /** Destroys a retiring key's material. Call only when nothing uses it any more. */
  async retire(tenantId: string, version: number): Promise<void> {
    await withTenant(this.database, tenantId, ({ trx }) =>
      trx
        .updateTable('tenant_data_keys')
        .set({ state: 'retired', wrapped_key: null, retired_at: this.clock.now().getTime() })
        .where('tenant_id', '=', tenantId)
        .where('purpose', '=', 'data')
        .where('version', '=', version)
        .where('state', '=', 'retiring')
        .execute(),
    );
    this.changed(tenantId);
  }

  /**
   * Crypto-shredding: deletes every key of the tenant and leaves a tombstone, so its sealed values and blobs
   * (here, in replicas and in backups taken after the keys' deletion is backed up) can never be read again.
   * Other nodes drop their cached keys within `cacheTtlMs`, or at once when linked by key-cache-bus.ts.
   */
  async shred(tenantId: string): Promise<void> {
    await withTenant(this.database, tenantId, async ({ trx }) => {
      await trx.deleteFrom('tenant_data_keys').where('tenant_id', '=', tenantId).execute();
      await trx
        .insertInto('tenant_data_keys')
        .values({
          tenant_id: tenantId,
          purpose: 'shredded',
          version: 0,
          wrapped_key: null,
          kek_version: 0,
          state: 'shredded',
          created_at: this.clock.now().getTime(),
          retired_at: null,
        })
        .execute();
    });
    this.changed(tenantId);
  }

  private changed(tenantId: string): void {
    this.invalidate(tenantId);
    this.onChange?.(tenantId);
  }

  invalidate(tenantId?: string): void {
    if (tenantId === undefined) this.cache.clear();
    else this.cache.delete(tenantId);
  }
}
