import { sql, type Kysely } from 'kysely';
import { pino } from 'pino';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { ManualClock } from '../clock.ts';
import { describeEachDialect } from '../db/testing.ts';
import { withSystemContext, withTenant } from '../db/tenant.ts';
import { JobQueue } from '../jobs/queue.ts';
import { DAY_MS, notExpired, purgeJobName, Retention, tablePurge } from './index.ts';

const silent = pino({ level: 'silent' });

interface IpLogTable {
  tenant_id: string;
  id: string;
  ip: string | null;
  seen_at: number;
}
type ProbeDb = Kysely<{ retention_probe: IpLogTable }>;

describeEachDialect('retention', (h) => {
  const start = Date.UTC(2026, 0, 31);
  let clock: ManualClock;
  let jobs: JobQueue;
  let retention: Retention;
  const db = () => h.database.db as unknown as ProbeDb;

  beforeAll(async () => {
    await db()
      .schema.createTable('retention_probe')
      .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('id', 'varchar(64)', (c) => c.notNull())
      .addColumn('ip', 'varchar(64)')
      .addColumn('seen_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('retention_probe_pk', ['tenant_id', 'id'])
      .execute();
    if (h.dialect === 'postgres') {
      await sql`alter table retention_probe enable row level security`.execute(h.database.db);
      await sql`alter table retention_probe force row level security`.execute(h.database.db);
      await sql`create policy tenant_isolation on retention_probe
        using (tenant_id = current_setting('canopy.tenant_id', true) or current_setting('canopy.system', true) = 'on')`.execute(
        h.database.db,
      );
    }
  });

  beforeEach(async () => {
    clock = new ManualClock(start);
    jobs = new JobQueue(h.database, clock, silent);
    retention = new Retention({ database: h.database, jobs, clock, logger: silent });
    await h.database.db.deleteFrom('jobs').execute();
    await h.database.db.deleteFrom('job_schedules').execute();
    await h.database.db.deleteFrom('retention_runs').execute();
    // 25 rows a day apart per tenant, for two tenants: days 0..24 before `start`.
    for (const tenant of ['t1', 't2']) {
      await withTenant(h.database, tenant, async ({ trx }) => {
        const t = trx as unknown as ProbeDb;
        await t.deleteFrom('retention_probe').where('tenant_id', '=', tenant).execute();
        const rows = Array.from({ length: 25 }, (_, i) => ({
          tenant_id: tenant,
          id: `r${i}`,
          ip: `10.0.0.${i}`,
          seen_at: start - i * DAY_MS - 1,
        }));
        await t.insertInto('retention_probe').values(rows).execute();
      });
    }
  });

  const visible = (tenant: string) =>
    withTenant(h.database, tenant, ({ trx }) =>
      notExpired(
        (trx as unknown as ProbeDb)
          .selectFrom('retention_probe')
          .select('id')
          .where('tenant_id', '=', tenant),
        'seen_at',
        retention.cutoff('probe.ip'),
      ).execute(),
    );
  const count = async (where = sql`1 = 1`) =>
    withSystemContext(h.database, 'test', async (trx) =>
      Number(
        (await sql<{ n: number }>`select count(*) as n from retention_probe where ${where}`.execute(trx))
          .rows[0]?.n ?? -1,
      ),
    );
  const stored = () => count();

  const register = (batchSize = 7) =>
    retention.register({
      name: 'probe.ip',
      maxAgeMs: 10 * DAY_MS,
      batchSize,
      purgeBatch: tablePurge(h.database, {
        table: 'retention_probe',
        timeColumn: 'seen_at',
        keyColumns: ['tenant_id', 'id'],
      }),
    });

  it('hides expired rows on read before any purge has run', async () => {
    register();
    expect((await visible('t1')).length).toBe(10); // days 0..9
    clock.advance(5 * DAY_MS);
    expect((await visible('t1')).length).toBe(5);
    expect(
      await withTenant(h.database, 't1', ({ trx }) =>
        (trx as unknown as ProbeDb)
          .selectFrom('retention_probe')
          .select('id')
          .where('tenant_id', '=', 't1')
          .execute(),
      ),
    ).toHaveLength(25);
  });

  it('purges in batches across tenants, records the run with its cutoff and count, and is idempotent', async () => {
    register(7);
    await retention.schedule();
    clock.advance(DAY_MS); // the schedule's first run is one interval away
    expect(await jobs.drain()).toBe(1);
    // cutoff = start + 1 day - 10 days: rows from day 9 on (each tenant: days 9..24 = 16 rows) are older.
    const [run] = await retention.runs('probe.ip');
    expect(run).toMatchObject({
      policy: 'probe.ip',
      state: 'done',
      deleted: 32,
      cutoff: start + DAY_MS - 10 * DAY_MS,
    });
    expect(await stored()).toBe(18);
    expect((await visible('t1')).length).toBe(9);

    clock.advance(1_000);
    const again = await retention.run('probe.ip');
    expect(again.deleted).toBe(0);
    expect(await stored()).toBe(18);
    expect((await retention.runs('probe.ip')).map((r) => r.deleted)).toEqual([0, 32]);
  });

  it('keeps one runner at a time', async () => {
    register();
    expect(await retention.runSoon('probe.ip')).toBe(true);
    expect(await retention.runSoon('probe.ip')).toBe(false);
    expect(await jobs.drain()).toBe(1);
    expect((await jobs.list('done')).filter((j) => j.name === purgeJobName('probe.ip'))).toHaveLength(1);
    expect(await retention.runSoon('probe.ip')).toBe(true);
  });

  it('can blank a column instead of deleting the row', async () => {
    retention.register({
      name: 'probe.ip-blank',
      maxAgeMs: 20 * DAY_MS,
      purgeBatch: tablePurge(h.database, {
        table: 'retention_probe',
        timeColumn: 'seen_at',
        keyColumns: ['tenant_id', 'id'],
        set: { ip: null },
        where: sql<boolean>`ip is not null`,
      }),
      batchSize: 3,
    });
    const run = await retention.run('probe.ip-blank');
    expect(run.deleted).toBe(10); // days 20..24, two tenants
    expect(await stored()).toBe(50);
    expect(await count(sql`ip is null`)).toBe(10);
    expect((await retention.run('probe.ip-blank')).deleted).toBe(0);
  });

  it('records a failed run and lets the job retry', async () => {
    let fail = true;
    retention.register({
      name: 'probe.flaky',
      maxAgeMs: DAY_MS,
      purgeBatch: async () => {
        if (fail) throw new Error('disk on fire');
        return 0;
      },
    });
    await expect(retention.run('probe.flaky')).rejects.toThrow('disk on fire');
    fail = false;
    clock.advance(1_000);
    await retention.run('probe.flaky');
    expect((await retention.runs('probe.flaky')).map((r) => [r.state, r.error])).toEqual([
      ['done', null],
      ['failed', 'disk on fire'],
    ]);
  });
});
