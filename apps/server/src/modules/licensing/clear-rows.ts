/**
 * Finishes migrations 0041, 0042 and 0043 (which have no keys): moves the rows of the old clear tables
 * (`license_seats`, `license_activations`; `scim_users`, `scim_groups`; `license_machines`) into the sealed ones
 * (`license_assignments`, `license_machines`; `license_scim_users`, `license_scim_groups`; `license_devices`),
 * sealing and indexing as the repositories do, in batches; then drops the old tables and clears the mark each
 * migration left. Runs at module start, before
 * any route; a no-op (one primary-key read) once done. Two nodes starting at once may both move a batch: the
 * unique holder index refuses the second copy, and that node reads the next batch again.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../../platform/db/connect.ts';
import { isUniqueViolation } from '../../platform/db/errors.ts';
import type { Tables } from '../../platform/db/schema.ts';
import { withSystemContext } from '../../platform/db/tenant.ts';
import type { OpenedActivation, SeatHolder, SeatPersonalData } from './personal-data.ts';
import { sealScimGroup, sealScimUser } from './scim-repo.ts';
import type { ScimGroupsTable, ScimUsersTable, SeatSource, SeatStatus } from './tables.ts';

export const CLEAR_ROWS_MARK = 'licensing.clear_rows_pending';
export const CLEAR_SCIM_MARK = 'licensing.clear_scim_pending';
export const CLEAR_MACHINES_MARK = 'licensing.clear_machines_pending';

/** The tables of migration 0040 as they were, typed here only (they are gone once this has run). */
interface ClearTables extends Tables {
  license_seats: {
    tenant_id: string;
    license_id: string;
    email: string;
    status: SeatStatus;
    source: SeatSource;
    assigned_at: number;
    updated_at: number;
  };
  license_activations: {
    tenant_id: string;
    id: string;
    license_id: string;
    email: string;
    fingerprint: string;
    name: string | null;
    created_at: number;
    last_heartbeat_at: number;
  };

  /** Migration 0041's machines: an opened activation's columns, in clear (0043 seals them into `license_devices`). */
  license_machines: OpenedActivation;

  scim_users: Omit<ScimUsersTable, 'tenant_id'> & { tenant_id: string };
  scim_groups: Omit<ScimGroupsTable, 'tenant_id'> & { tenant_id: string };
}

type Trx = Transaction<ClearTables>;
const WHY = 'licensing seals the clear seat emails of every org (migration 0041)';

type Deps = { database: Database; people: SeatPersonalData; logger: Logger };

const marked = async (deps: Deps, mark: string) =>
  Boolean(
    await deps.database.db
      .selectFrom('system_settings')
      .select('key')
      .where('key', '=', mark)
      .executeTakeFirst(),
  );

const inSystem =
  (deps: Deps) =>
  <T>(fn: (trx: Trx) => Promise<T>) =>
    withSystemContext(deps.database, WHY, (trx) => fn(trx as unknown as Trx));

export async function sealClearRows(
  deps: Deps,
  batchSize = 200,
): Promise<{ seats: number; machines: number; scimUsers: number; scimGroups: number; devices: number }> {
  const moved = { seats: 0, machines: 0, scimUsers: 0, scimGroups: 0, devices: 0 };
  if (await marked(deps, CLEAR_ROWS_MARK)) Object.assign(moved, await sealSeats(deps, batchSize));
  if (await marked(deps, CLEAR_SCIM_MARK)) Object.assign(moved, await sealScim(deps, batchSize));
  // After 0041's step, which may have just filled `license_machines` from 0040's table.
  if (await marked(deps, CLEAR_MACHINES_MARK)) moved.devices = await sealMachines(deps, batchSize);
  if (Object.values(moved).some((n) => n > 0)) deps.logger.info(moved, 'licensing: sealed the clear rows');
  return moved;
}

async function sealSeats(deps: Deps, batchSize: number) {
  const db = deps.database.db;
  const moved = { seats: 0, machines: 0 };
  const system = inSystem(deps);

  for (;;) {
    const rows = await system((trx) =>
      trx.selectFrom('license_seats').selectAll().limit(batchSize).execute(),
    );
    if (rows.length === 0) break;
    // Keys are read outside the write transaction (SQLite has one connection).
    const sealed: { r: (typeof rows)[number]; holder: SeatHolder; id: string; emailSealed: Buffer }[] = [];
    for (const r of rows) {
      const holder = await deps.people.holder(r.email);
      const id = randomUUID();
      sealed.push({ r, holder, id, emailSealed: await deps.people.sealFor(r.tenant_id, id, holder.email) });
    }
    const done = await retryOnClash(() =>
      system(async (trx) => {
        for (const { r, holder, id, emailSealed } of sealed) {
          // Already moved (by another node), or two old spellings of one address: one seat is kept.
          const moved = await trx
            .selectFrom('license_assignments')
            .select('id')
            .where('tenant_id', '=', r.tenant_id)
            .where('license_id', '=', r.license_id)
            .where('email_index', '=', holder.index)
            .executeTakeFirst();
          if (!moved)
            await trx
              .insertInto('license_assignments')
              .values({
                tenant_id: r.tenant_id,
                id,
                license_id: r.license_id,
                email_index: holder.index,
                email_sealed: emailSealed,
                status: r.status,
                source: r.source,
                assigned_at: Number(r.assigned_at),
                updated_at: Number(r.updated_at),
              })
              .execute();
          await trx
            .deleteFrom('license_seats')
            .where('tenant_id', '=', r.tenant_id)
            .where('license_id', '=', r.license_id)
            .where('email', '=', r.email)
            .execute();
        }
        return sealed.length;
      }),
    );
    moved.seats += done;
  }

  for (;;) {
    const rows = await system((trx) =>
      trx.selectFrom('license_activations').selectAll().limit(batchSize).execute(),
    );
    if (rows.length === 0) break;
    const indexed: { r: (typeof rows)[number]; index: string }[] = [];
    for (const r of rows) indexed.push({ r, index: (await deps.people.holder(r.email)).index });
    moved.machines += await retryOnClash(() =>
      system(async (trx) => {
        for (const { r, index } of indexed) {
          const { email: _email, ...rest } = r;
          const moved = await trx
            .selectFrom('license_machines')
            .select('id')
            .where('tenant_id', '=', r.tenant_id)
            .where((eb) =>
              eb.or([
                eb('id', '=', r.id),
                eb.and([
                  eb('license_id', '=', r.license_id),
                  eb('email_index', '=', index),
                  eb('fingerprint', '=', r.fingerprint),
                ]),
              ]),
            )
            .executeTakeFirst();
          if (!moved)
            await trx
              .insertInto('license_machines')
              .values({ ...rest, email_index: index })
              .execute();
          await trx
            .deleteFrom('license_activations')
            .where('tenant_id', '=', r.tenant_id)
            .where('id', '=', r.id)
            .execute();
        }
        return indexed.length;
      }),
    );
  }

  const old = db as unknown as Kysely<ClearTables>;
  await old.schema.dropTable('license_activations').ifExists().execute();
  await old.schema.dropTable('license_seats').ifExists().execute();
  await db.deleteFrom('system_settings').where('key', '=', CLEAR_ROWS_MARK).execute();
  return moved;
}

async function sealScim(deps: Deps, batchSize: number) {
  const db = deps.database.db;
  const cipher = deps.people.cipher();
  const system = inSystem(deps);
  const moved = {
    scimUsers: await moveSealedRows(system, batchSize, 'scim_users', 'license_scim_users', (r) =>
      sealScimUser(cipher, r.tenant_id, r),
    ),
    scimGroups: await moveSealedRows(system, batchSize, 'scim_groups', 'license_scim_groups', (r) =>
      sealScimGroup(cipher, r.tenant_id, r),
    ),
  };
  const old = db as unknown as Kysely<ClearTables>;
  await old.schema.dropTable('scim_groups').ifExists().execute();
  await old.schema.dropTable('scim_users').ifExists().execute();
  await db.deleteFrom('system_settings').where('key', '=', CLEAR_SCIM_MARK).execute();
  return moved;
}

async function sealMachines(deps: Deps, batchSize: number): Promise<number> {
  const db = deps.database.db;
  const people = deps.people;
  const moved = await moveSealedRows(
    inSystem(deps),
    batchSize,
    'license_machines',
    'license_devices',
    async ({ fingerprint, name, ...rest }) => ({
      ...rest,
      fingerprint_index: await people.fingerprintIndex(rest.tenant_id, fingerprint),
      ...(await people.sealMachine(rest.tenant_id, rest.id, fingerprint, name)),
    }),
  );
  const old = db as unknown as Kysely<ClearTables>;
  await old.schema.dropTable('license_machines').ifExists().execute();
  await db.deleteFrom('system_settings').where('key', '=', CLEAR_MACHINES_MARK).execute();
  return moved;
}

/**
 * Moves every row of a clear table into its sealed twin, a batch at a time: sealed outside the transaction (keys
 * are fetched there), then inserted unless another node already did, and the clear row deleted.
 */
async function moveSealedRows<From extends 'scim_users' | 'scim_groups' | 'license_machines'>(
  system: ReturnType<typeof inSystem>,
  batchSize: number,
  from: From,
  to: 'license_scim_users' | 'license_scim_groups' | 'license_devices',
  seal: (row: ClearTables[From]) => Promise<Record<string, unknown>>,
): Promise<number> {
  // One statement shape serves both tables; their own types are checked where the rows are sealed.
  type Loose = Kysely<Record<string, { tenant_id: string; id: string } & Record<string, unknown>>>;
  let moved = 0;
  for (;;) {
    const rows = (await system((trx) =>
      (trx as unknown as Loose)
        .selectFrom(from as string)
        .selectAll()
        .limit(batchSize)
        .execute(),
    )) as unknown as ClearTables[From][];
    if (rows.length === 0) return moved;
    const sealed: { r: ClearTables[From]; row: Record<string, unknown> }[] = [];
    for (const r of rows) sealed.push({ r, row: await seal(r) });
    moved += await retryOnClash(() =>
      system(async (trx) => {
        const loose = trx as unknown as Loose;
        for (const { r, row } of sealed) {
          const there = await loose
            .selectFrom(to)
            .select('id')
            .where('tenant_id', '=', r.tenant_id)
            .where('id', '=', r.id)
            .executeTakeFirst();
          if (!there)
            await loose
              .insertInto(to)
              .values({ ...row, tenant_id: r.tenant_id })
              .execute();
          await loose
            .deleteFrom(from as string)
            .where('tenant_id', '=', r.tenant_id)
            .where('id', '=', r.id)
            .execute();
        }
        return sealed.length;
      }),
    );
  }
}

/** Another node moved these rows first: nothing to do for this batch (the next read no longer sees them). */
async function retryOnClash(fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    if (isUniqueViolation(err)) return 0;
    throw err;
  }
}
