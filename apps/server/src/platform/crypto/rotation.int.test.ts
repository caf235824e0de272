import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.ts';
import { describeEachDialect } from '../db/testing.ts';
import { withSystemContext, withTenant } from '../db/tenant.ts';
import { JobQueue } from '../jobs/queue.ts';
import type { RootKeyProvider } from './keyring.ts';
import { rotateRootKey, RotationInProgressError, ROTATION_LOCK_STALE_MS } from './rotation.ts';
import {
  createProbeSecretsTable,
  createTestCrypto,
  type ProbeSecretsTable,
  type TestCrypto,
} from './testing.ts';
import { sealedKeyVersion } from './value-format.ts';

const silent = pino({ level: 'silent' });
type ProbeDb = Kysely<Record<string, ProbeSecretsTable>>;

describeEachDialect('key rotation', (h) => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  let crypto: TestCrypto;
  let jobs: JobQueue;
  const TABLE = 'rotation_probe';
  const ref = (id: string) => ({ table: TABLE, id, column: 'secret' });
  const tenants = ['tenant-a', 'tenant-b', 'tenant-c', 'tenant-d'];
  const valueOf = (t: string, i: number) => `sentinel ${t} #${i} ${'x'.repeat(i % 50)}`;

  beforeAll(async () => {
    jobs = new JobQueue(h.database, clock, silent);
    crypto = createTestCrypto(h.database, clock, { jobs });
    await createProbeSecretsTable(h.database, TABLE);
    crypto.dataKeys.registerColumn({ table: TABLE, column: 'secret' });
  });
  afterAll(() => crypto.cleanup());

  const readAll = async () => {
    const out: string[] = [];
    for (const t of tenants) {
      await withTenant(h.database, t, async (scope) => {
        const rows = await (scope.trx as unknown as ProbeDb)
          .selectFrom(TABLE)
          .selectAll()
          .where('tenant_id', '=', t)
          .orderBy('id')
          .execute();
        for (const r of rows) out.push(await crypto.cipher.openText(scope, ref(r.id), r.secret!));
      });
    }
    return out;
  };

  it('writes 1,000 values, rotates the root key twice and a tenant key once, and reads every value back', async () => {
    const expected: string[] = [];
    let t0 = performance.now();
    for (const t of tenants) {
      await withTenant(h.database, t, async (scope) => {
        const rows = [];
        for (let i = 0; i < 250; i++) {
          const id = `r${String(i).padStart(4, '0')}`;
          rows.push({ tenant_id: t, id, secret: await crypto.cipher.seal(scope, ref(id), valueOf(t, i)) });
          expected.push(valueOf(t, i));
        }
        for (let i = 0; i < rows.length; i += 100)
          await (scope.trx as unknown as ProbeDb)
            .insertInto(TABLE)
            .values(rows.slice(i, i + 100))
            .execute();
      });
    }
    const writeMs = performance.now() - t0;

    t0 = performance.now();
    const first = await crypto.rotateRootKey();
    const second = await crypto.rotateRootKey({ batchSize: 3 });
    const kekMs = performance.now() - t0;
    expect(first).toMatchObject({ kekVersion: 2, rewrapped: 4, retiredVersions: [1] }); // 4 tenants, one data key each
    expect(second).toMatchObject({ kekVersion: 3, rewrapped: 4, retiredVersions: [2] });

    crypto.keys.invalidate(); // read through the re-wrapped keys, not the cache
    expect(await readAll()).toEqual(expected);

    t0 = performance.now();
    expect(await crypto.dataKeys.rotate('tenant-b')).toEqual({ from: 1, to: 2 });
    // A write after the rotation uses the new key at once.
    const fresh = await crypto.cipher.seal('tenant-b', ref('r0000'), valueOf('tenant-b', 0));
    expect(sealedKeyVersion(fresh)).toBe(2);
    // The job waits until every node's key cache has expired, then re-encrypts and retires the old key.
    expect(await jobs.drain()).toBe(0);
    clock.advance(crypto.keys.cacheTtlMs + 1_000);
    expect(await jobs.drain()).toBe(1);
    const dekMs = performance.now() - t0;
    expect((await jobs.list('done')).some((j) => j.name === 'crypto.reencrypt_tenant')).toBe(true);

    const bRows = await withTenant(h.database, 'tenant-b', ({ trx }) =>
      (trx as unknown as ProbeDb)
        .selectFrom(TABLE)
        .select('secret')
        .where('tenant_id', '=', 'tenant-b')
        .execute(),
    );
    expect(new Set(bRows.map((r) => sealedKeyVersion(r.secret!)))).toEqual(new Set([2]));
    const keyRows = await withSystemContext(h.database, 'test', (trx) =>
      trx
        .selectFrom('tenant_data_keys')
        .select(['version', 'state', 'wrapped_key'])
        .where('tenant_id', '=', 'tenant-b')
        .where('purpose', '=', 'data')
        .orderBy('version')
        .execute(),
    );
    expect(keyRows.map((r) => [Number(r.version), r.state, r.wrapped_key === null])).toEqual([
      [1, 'retired', true],
      [2, 'active', false],
    ]);

    crypto.keys.invalidate();
    expect(await readAll()).toEqual(expected);
    const ring = JSON.parse(readFileSync(join(crypto.dir, 'keyring.json'), 'utf8')) as {
      current: number;
      keys: { version: number; retiredAt: string | null }[];
    };
    expect(ring.current).toBe(3);
    expect(ring.keys.map((k) => [k.version, k.retiredAt !== null])).toEqual([
      [1, true],
      [2, true],
      [3, false],
    ]);
    console.log(
      `[${h.dialect}] 1,000 sealed values: write ${writeMs.toFixed(0)} ms; two root-key rotations ${kekMs.toFixed(0)} ms; ` +
        `tenant key rotation + re-encryption of 250 values ${dekMs.toFixed(0)} ms`,
    );
  });

  it('re-encrypts a value still under the old key before destroying that key', async () => {
    const v1 = await crypto.cipher.seal('tenant-e', ref('late'), 'late value');
    await crypto.dataKeys.rotate('tenant-e');
    clock.advance(crypto.keys.cacheTtlMs + 1_000);
    await withTenant(h.database, 'tenant-e', ({ trx }) =>
      (trx as unknown as ProbeDb)
        .insertInto(TABLE)
        .values({ tenant_id: 'tenant-e', id: 'late', secret: v1 })
        .execute(),
    );
    const r = await crypto.dataKeys.reencryptTenant('tenant-e');
    expect(r).toEqual({ resealed: 1, retired: [1], pending: [] });
    const row = await withTenant(h.database, 'tenant-e', ({ trx }) =>
      (trx as unknown as ProbeDb)
        .selectFrom(TABLE)
        .select('secret')
        .where('tenant_id', '=', 'tenant-e')
        .executeTakeFirstOrThrow(),
    );
    expect(await crypto.cipher.openText('tenant-e', ref('late'), row.secret!)).toBe('late value');
  });

  it('keeps the old data key until every node can have seen the rotation', async () => {
    await withTenant(h.database, 'tenant-f', async (scope) => {
      await (scope.trx as unknown as ProbeDb)
        .insertInto(TABLE)
        .values({ tenant_id: 'tenant-f', id: 'a', secret: await crypto.cipher.seal(scope, ref('a'), 'f') })
        .execute();
    });
    await crypto.dataKeys.rotate('tenant-f');
    const early = await crypto.dataKeys.reencryptTenant('tenant-f');
    expect(early).toEqual({ resealed: 1, retired: [], pending: [1] });
    clock.advance(crypto.keys.cacheTtlMs);
    expect(await crypto.dataKeys.reencryptTenant('tenant-f')).toEqual({
      resealed: 0,
      retired: [1],
      pending: [],
    });
  });

  describe('two root-key rotations at once', () => {
    it('lets only one run; a lock left by a dead run is taken over once stale', async () => {
      const now = clock.now().getTime();
      await h.database.db
        .insertInto('system_settings')
        .values({ key: 'crypto.kek_rotation.lock', value: 'rotation-other-process', updated_at: now })
        .execute();
      await expect(crypto.rotateRootKey()).rejects.toThrow(RotationInProgressError);
      clock.advance(ROTATION_LOCK_STALE_MS);
      const before = await crypto.keys.provider.currentVersion();
      expect((await crypto.rotateRootKey()).kekVersion).toBe(before + 1);
      expect(
        await h.database.db
          .selectFrom('system_settings')
          .selectAll()
          .where('key', '=', 'crypto.kek_rotation.lock')
          .execute(),
      ).toEqual([]);
      // A rotation held up half-way keeps the lock; a second one meanwhile is refused.
      const real = crypto.keys.provider;
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      let waiting!: () => void;
      const reachedGate = new Promise<void>((resolve) => (waiting = resolve));
      const slow = Object.create(real, {
        // Held before any transaction is open (SQLite has a single connection).
        addVersion: {
          value: async () => {
            waiting();
            await gate;
            return real.addVersion();
          },
        },
      }) as RootKeyProvider;
      const first = rotateRootKey({
        database: h.database,
        keys: Object.create(crypto.keys, { provider: { value: slow } }) as typeof crypto.keys,
        clock,
      });
      await reachedGate;
      await expect(crypto.rotateRootKey()).rejects.toThrow(RotationInProgressError);
      open();
      expect((await first).kekVersion).toBe(before + 2);
    });
  });

  describe('a root-key rotation that dies half-way', () => {
    it('is finished by the next run, which records its progress and adds no further version', async () => {
      const real = crypto.keys.provider;
      let wraps = 0;
      const failing: RootKeyProvider = {
        kind: 'failing',
        currentVersion: () => real.currentVersion(),
        unwrap: (v, w, a) => real.unwrap(v, w, a),
        addVersion: () => real.addVersion(),
        retireVersion: (v) => real.retireVersion(v),
        listVersions: () => real.listVersions(),
        wrap: async (k, a) => {
          if (++wraps > 5) throw new Error('power cut');
          return real.wrap(k, a);
        },
      };
      const keysView = Object.create(crypto.keys, { provider: { value: failing } }) as typeof crypto.keys;
      const before = await real.currentVersion();
      await expect(
        rotateRootKey({ database: h.database, keys: keysView, clock }, { batchSize: 2 }),
      ).rejects.toThrow('power cut');
      const running = await withSystemContext(h.database, 'test', (trx) =>
        trx
          .selectFrom('crypto_rotations')
          .selectAll()
          .where('kind', '=', 'kek')
          .where('state', '=', 'running')
          .execute(),
      );
      expect(running).toHaveLength(1);
      expect(Number(running[0]!.processed)).toBe(4); // two whole batches committed before the failure
      const target = Number(running[0]!.to_version);
      expect(target).toBe(before + 1);

      const resumed = await crypto.rotateRootKey();
      expect(resumed.kekVersion).toBe(target);
      expect(resumed.resumed).toBe(true);
      expect(await real.currentVersion()).toBe(target);
      const stale = await withSystemContext(h.database, 'test', (trx) =>
        trx
          .selectFrom('tenant_data_keys')
          .select('tenant_id')
          .where('wrapped_key', 'is not', null)
          .where('kek_version', '<>', target)
          .execute(),
      );
      expect(stale).toEqual([]);
      crypto.keys.invalidate();
      expect((await readAll()).length).toBeGreaterThanOrEqual(1_000);
    });
  });
});
