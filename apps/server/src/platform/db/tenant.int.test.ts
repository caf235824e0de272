import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { ProbeRepository } from './probe-repository.ts';
import { TenantContextMissingError, withSystemContext, withTenant, type TenantScope } from './tenant.ts';
import { describeEachDialect } from './testing.ts';

describeEachDialect('tenant-scoped repositories', (h) => {
  it('refuses to be built without a tenant context', () => {
    expect(() => new ProbeRepository(undefined)).toThrow(TenantContextMissingError);
    expect(() => new ProbeRepository({ tenantId: '', trx: {} } as unknown as TenantScope)).toThrow(
      TenantContextMissingError,
    );
  });

  it('refuses to open a scope without a tenant id', async () => {
    await expect(withTenant(h.database, '', async () => 1)).rejects.toThrow(TenantContextMissingError);
  });

  it("reads, updates and deletes only its own tenant's rows", async () => {
    const a = await withTenant(h.database, 'tenant-a', (s) => new ProbeRepository(s).add('a1', 1));
    await withTenant(h.database, 'tenant-b', (s) => new ProbeRepository(s).add('b1', 1));

    const seenByB = await withTenant(h.database, 'tenant-b', (s) => new ProbeRepository(s).list());
    expect(seenByB.map((r) => r.label)).toEqual(['b1']);
    // B cannot touch A's row even knowing its id: the row is simply not there for B.
    expect(await withTenant(h.database, 'tenant-b', (s) => new ProbeRepository(s).rename(a, 'stolen'))).toBe(
      false,
    );
    expect(await withTenant(h.database, 'tenant-b', (s) => new ProbeRepository(s).remove(a))).toBe(false);
    const seenByA = await withTenant(h.database, 'tenant-a', (s) => new ProbeRepository(s).list());
    expect(seenByA.map((r) => r.label)).toEqual(['a1']);
  });

  if (h.dialect === 'postgres') {
    describe('row-level security (second wall)', () => {
      it("hides another tenant's rows from a query that forgets the tenant filter", async () => {
        await withTenant(h.database, 'tenant-c', (s) => new ProbeRepository(s).add('c1', 1));
        await withTenant(h.database, 'tenant-d', (s) => new ProbeRepository(s).add('d1', 1));
        const forgetful = await withTenant(h.database, 'tenant-c', (s) =>
          s.trx.selectFrom('probe_items').select('label').execute(),
        );
        expect(forgetful.map((r) => r.label)).toEqual(['c1']);
      });

      it('refuses a write that names another tenant', async () => {
        await expect(
          withTenant(h.database, 'tenant-c', (s) =>
            s.trx
              .insertInto('probe_items')
              .values({ tenant_id: 'tenant-d', id: 'x', label: 'forged', created_at: 1 })
              .execute(),
          ),
        ).rejects.toThrow(/row-level security/);
      });

      it('shows nothing outside any tenant context', async () => {
        const rows = await h.database.db.selectFrom('probe_items').select('label').execute();
        expect(rows).toEqual([]);
      });

      it('lets a named system context see every tenant', async () => {
        const rows = await withSystemContext(h.database, 'test', (trx) =>
          trx.selectFrom('probe_items').select('tenant_id').distinct().execute(),
        );
        expect(rows.length).toBeGreaterThanOrEqual(2);
      });

      it('connects as a role that cannot bypass row-level security', async () => {
        const { rows } = await sql<{ rolsuper: boolean; rolbypassrls: boolean }>`
          select rolsuper, rolbypassrls from pg_roles where rolname = current_user`.execute(h.database.db);
        expect(rows[0]).toEqual({ rolsuper: false, rolbypassrls: false });
      });
    });
  }
});
