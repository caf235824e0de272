/**
 * Tenant separation, first wall: every read and write of a tenant-owned table goes through a repository that
 * is built from a `TenantScope` and adds `tenant_id` to every statement. Second wall (PostgreSQL): the scope's
 * transaction sets `canopy.tenant_id`, and row-level security hides every other tenant's rows even from a
 * query that forgets the filter. Another tenant's object is therefore simply "not found" (404, never 403).
 */
import {
  sql,
  type SelectQueryBuilder,
  type Transaction,
  type UpdateQueryBuilder,
  type DeleteQueryBuilder,
  type Insertable,
  type UpdateResult,
  type DeleteResult,
} from 'kysely';
import type { Database } from './connect.ts';
import type { Tables } from './schema.ts';

export interface TenantScope {
  readonly tenantId: string;
  readonly trx: Transaction<Tables>;
}

export class TenantContextMissingError extends Error {
  constructor(what: string) {
    super(`${what} needs a tenant context: open one with withTenant()`);
    this.name = 'TenantContextMissingError';
  }
}

/** The names of tables that carry a tenant_id column. */
export type TenantTableName = {
  [K in keyof Tables]: Tables[K] extends { tenant_id: string } ? K : never;
}[keyof Tables];

function assertTenantId(tenantId: unknown, what: string): asserts tenantId is string {
  if (typeof tenantId !== 'string' || tenantId.length === 0) throw new TenantContextMissingError(what);
}

/**
 * Runs `fn` in one transaction scoped to `tenantId`. `readOnly` (a transaction that only reads): on SQLite it
 * begins DEFERRED, so it neither takes nor waits for the write lock (sqlite-dialect.ts); on PostgreSQL it is
 * READ ONLY (a write in it fails). MySQL would need an extra round trip for it, so there it changes nothing.
 */
export async function withTenant<T>(
  database: Database,
  tenantId: string,
  fn: (scope: TenantScope) => Promise<T>,
  options: { readOnly?: boolean } = {},
): Promise<T> {
  assertTenantId(tenantId, 'withTenant');
  let transaction = database.db.transaction();
  if (options.readOnly && database.dialect !== 'mysql') transaction = transaction.setAccessMode('read only');
  return transaction.execute(async (trx) => {
    if (database.dialect === 'postgres') {
      await sql`select set_config('canopy.tenant_id', ${tenantId}, true)`.execute(trx);
    }
    return fn({ tenantId, trx });
  });
}

/**
 * Runs `fn` in a transaction that may touch every tenant's rows: for platform jobs (retention purges, key
 * rotation) that iterate over tenants. Name the reason; each call site is a place where tenancy is waived.
 */
export async function withSystemContext<T>(
  database: Database,
  reason: string,
  fn: (trx: Transaction<Tables>) => Promise<T>,
): Promise<T> {
  if (!reason) throw new Error('withSystemContext needs a reason');
  return database.db.transaction().execute(async (trx) => {
    if (database.dialect === 'postgres')
      await sql`select set_config('canopy.system', 'on', true)`.execute(trx);
    return fn(trx);
  });
}

/**
 * Base of every repository over tenant-owned tables. It cannot be constructed without a tenant scope, and its
 * query starters already carry the tenant filter, so a subclass has to go out of its way to forget it.
 */
export abstract class TenantRepository {
  protected readonly tenantId: string;
  protected readonly trx: Transaction<Tables>;

  constructor(scope: TenantScope | undefined) {
    assertTenantId(scope?.tenantId, new.target.name);
    this.tenantId = scope.tenantId;
    this.trx = scope.trx;
  }

  protected selectFrom<T extends TenantTableName>(table: T): SelectQueryBuilder<Tables, T, object> {
    const qb = this.trx.selectFrom(table) as unknown as SelectQueryBuilder<Tables, T, object>;
    return qb.where(sql.ref(`${table}.tenant_id`), '=', this.tenantId);
  }

  protected updateTable<T extends TenantTableName>(table: T): UpdateQueryBuilder<Tables, T, T, UpdateResult> {
    const qb = this.trx.updateTable(table) as unknown as UpdateQueryBuilder<Tables, T, T, UpdateResult>;
    return qb.where(sql.ref(`${table}.tenant_id`), '=', this.tenantId);
  }

  protected deleteFrom<T extends TenantTableName>(table: T): DeleteQueryBuilder<Tables, T, DeleteResult> {
    const qb = this.trx.deleteFrom(table) as unknown as DeleteQueryBuilder<Tables, T, DeleteResult>;
    return qb.where(sql.ref(`${table}.tenant_id`), '=', this.tenantId);
  }

  /** Inserts rows with this scope's tenant_id (any tenant_id in `rows` is overwritten). */
  protected async insertInto<T extends TenantTableName>(
    table: T,
    rows: Omit<Insertable<Tables[T]>, 'tenant_id'> | Omit<Insertable<Tables[T]>, 'tenant_id'>[],
  ): Promise<void> {
    const list = (Array.isArray(rows) ? rows : [rows]).map((r) => ({ ...r, tenant_id: this.tenantId }));
    if (list.length === 0) return;
    await this.trx
      .insertInto(table)
      .values(list as unknown as Insertable<Tables[T]>[])
      .execute();
  }
}
