/**
 * Key rotation.
 *
 * Root key (KEK): `rotateRootKey` adds a keyring version and re-wraps every tenant key with it, in batches,
 * each row updated on its own only if it still names the version it was read with. Progress is a row in
 * `crypto_rotations`; a run that dies is finished by the next run (which resumes the unfinished rotation rather
 * than adding another version). When no wrapped key names an older version, that version is marked retired
 * in the keyring (kept, so backups taken before the rotation stay readable).
 *
 * The tenant data key's rotation is in data-key-rotation.ts.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/connect.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { withSystemContext } from '../db/tenant.ts';
import { dataKeyAad, type TenantKeyStore } from './tenant-keys.ts';

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
