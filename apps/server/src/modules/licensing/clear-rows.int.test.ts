/**
 * Migrations 0041-0043 on a database that has clear seat emails and machine fingerprints (the 0040 schema with
 * rows): at start the licensing module seals them into the new tables in batches (seats, then SCIM, then machines,
 * which pass through 0041's table on the way), drops the old tables, and every lookup still works.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Migrator, sql, type Migration } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../platform/db/connect.ts';
import { MIGRATIONS_DIR, type MigrationModule } from '../../platform/db/migrator.ts';
import { withSystemContext, withTenant } from '../../platform/db/tenant.ts';
import { createTestDatabase, dialectsUnderTest, type TestDatabase } from '../../platform/db/testing.ts';
import { call, createLicensingTestApp, type LicensingTestApp } from './testing.ts';

const OLD_SCHEMA_LAST = '0040_licensing';
const HOUR = 3_600_000;

for (const dialect of dialectsUnderTest()) {
  describe(`clear seat emails sealed after migration 0041 [${dialect}]`, () => {
    let testDb: TestDatabase;
    let t: LicensingTestApp;
    const orgId = 'old-org';
    const licenseId = 'old-lic';
    const seated = Array.from({ length: 7 }, (_, i) => `Person${i}.Clear@Example.com`.toLowerCase());

    beforeAll(async () => {
      testDb = await createTestDatabase(dialect);
      const database = openDatabase(testDb.url);
      const migrations: Record<string, Migration> = {};
      for (const file of readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{4}_[a-z0-9_]+\.ts$/.test(f))) {
        const name = file.replace(/\.ts$/, '');
        if (name > OLD_SCHEMA_LAST) continue;
        const mod = (await import(pathToFileURL(join(MIGRATIONS_DIR, file)).href)) as MigrationModule;
        migrations[name] = { up: (db) => mod.up(db, { dialect }) };
      }
      const migrator = new Migrator({
        db: database.db,
        provider: { getMigrations: async () => migrations },
        allowUnorderedMigrations: true,
      });
      expect((await migrator.migrateToLatest()).error).toBeUndefined();
      const now = Date.UTC(2026, 5, 1);
      await withSystemContext(database, 'test: rows as the 0040 schema stored them', async (trx) => {
        await sql`insert into licenses (tenant_id, id, ${sql.ref('key')}, policy_id, products, seats, status, expires_at, created_at, updated_at)
          values (${orgId}, ${licenseId}, 'CNPY-OLD00-OLD00-OLD00-OLD00', 'standard', '["desktop-mac"]', 10, 'active', null, ${now}, ${now})`.execute(
          trx,
        );
        for (const [i, email] of seated.entries()) {
          const status = i === 1 ? 'deactivated' : 'active';
          await sql`insert into license_seats (tenant_id, license_id, email, status, source, assigned_at, updated_at)
            values (${orgId}, ${licenseId}, ${email}, ${status}, 'portal', ${now + i}, ${now + i})`.execute(
            trx,
          );
        }
        const resource = JSON.stringify({ name: { givenName: 'Olda', familyName: 'Clearname' } });
        await sql`insert into scim_users (tenant_id, id, license_id, user_name, seat_email, external_id, active, resource, created_at, updated_at)
          values (${orgId}, 'old-scim-user', ${licenseId}, ${seated[3]}, ${seated[3]}, 'old-ext-1', 1, ${resource}, ${now}, ${now})`.execute(
          trx,
        );
        await sql`insert into scim_groups (tenant_id, id, display_name, external_id, members, created_at, updated_at)
          values (${orgId}, 'old-scim-group', 'Old Clear Group', null, '[{"value":"old-scim-user"}]', ${now}, ${now})`.execute(
          trx,
        );
        for (const [i, fp] of ['m1', 'm2', 'm3'].entries()) {
          const name = i === 0 ? 'Old Clear Laptop' : null;
          await sql`insert into license_activations (tenant_id, id, license_id, email, fingerprint, name, created_at, last_heartbeat_at)
            values (${orgId}, ${`act-${fp}`}, ${licenseId}, ${seated[0]}, ${`CLEAR-SERIAL-${fp}`}, ${name}, ${now}, ${now})`.execute(
            trx,
          );
        }
      });
      await database.close();
      t = await createLicensingTestApp(testDb.url);
    });
    afterAll(async () => {
      await t?.close();
      await testDb?.drop();
    });

    it('moves every seat and machine into the sealed tables and drops the clear ones', async () => {
      const rows = await withTenant(t.platform.database, orgId, async ({ trx }) => ({
        seats: await trx
          .selectFrom('license_assignments')
          .selectAll()
          .where('tenant_id', '=', orgId)
          .execute(),
        machines: await trx
          .selectFrom('license_devices')
          .selectAll()
          .where('tenant_id', '=', orgId)
          .execute(),
      }));
      expect(rows.seats).toHaveLength(seated.length);
      expect(rows.machines.map((m) => m.id).sort()).toEqual(['act-m1', 'act-m2', 'act-m3']);
      const stored = JSON.stringify(rows, (_k, v: unknown) =>
        v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
      );
      expect(stored.toLowerCase()).not.toContain('.clear@');
      expect(stored.toLowerCase()).not.toContain('clear-serial');
      expect(stored.toLowerCase()).not.toContain('old clear laptop');
      const scimRows = await withTenant(t.platform.database, orgId, async ({ trx }) => [
        ...(await trx.selectFrom('license_scim_users').selectAll().where('tenant_id', '=', orgId).execute()),
        ...(await trx.selectFrom('license_scim_groups').selectAll().where('tenant_id', '=', orgId).execute()),
      ]);
      expect(scimRows.map((r) => r.id).sort()).toEqual(['old-scim-group', 'old-scim-user']);
      const scimText = JSON.stringify(scimRows, (_k, v: unknown) =>
        v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
      ).toLowerCase();
      for (const needle of ['clearname', 'olda', 'old clear group', 'old-ext-1', '.clear@'])
        expect(scimText).not.toContain(needle);
      const tables = (await t.platform.database.db.introspection.getTables()).map((x) => x.name);
      expect(tables).toContain('license_assignments');
      expect(tables).not.toContain('license_seats');
      expect(tables).not.toContain('license_activations');
      expect(tables).not.toContain('scim_users');
      expect(tables).not.toContain('scim_groups');
      expect(tables).not.toContain('license_machines');
      const mark = await t.platform.database.db
        .selectFrom('system_settings')
        .select('key')
        .where('key', 'in', [
          'licensing.clear_rows_pending',
          'licensing.clear_scim_pending',
          'licensing.clear_machines_pending',
        ])
        .executeTakeFirst();
      expect(mark).toBeUndefined();
    });

    it('still finds the moved seats by email: VALID, SEAT_DEACTIVATED, TOO_MANY_MACHINES for the fourth machine', async () => {
      const validate = (email: string, fingerprint: string) =>
        call(t, t.identity.user(email, {}).token)('POST', '/licenses/validate', {
          product: 'desktop-mac',
          fingerprint,
        });
      expect((await validate(seated[2]!, 'x')).body).toMatchObject({ code: 'VALID' });
      expect((await validate(seated[1]!, 'x')).body).toMatchObject({ code: 'SEAT_DEACTIVATED' });
      // The moved machines are still the first user's: three live, the standard policy allows three.
      const known = (await validate(seated[0]!, 'CLEAR-SERIAL-m2')).body;
      expect(known).toMatchObject({ code: 'VALID', license: { activationId: 'act-m2' } });
      expect((await validate(seated[0]!, 'CLEAR-SERIAL-m4')).body).toMatchObject({
        code: 'TOO_MANY_MACHINES',
      });
      t.clock.advance(3 * HOUR);
    });

    it('lists and exports the moved seats with their emails', async () => {
      const admin = call(t, t.identity.user('old-admin@example.com', { [orgId]: 'admin' }).token);
      const csv = (await admin('GET', `/orgs/${orgId}/licenses/${licenseId}/seats.csv`)).text;
      expect(
        csv
          .trim()
          .split(/\r?\n/)
          .slice(1)
          .map((l) => l.split(',')[0]),
      ).toEqual([...seated].sort());
    });

    it('still answers SCIM filters on the moved users and groups (userName, externalId, displayName)', async () => {
      const admin = call(t, t.identity.user('scim-admin@example.com', { [orgId]: 'admin' }).token);
      const cred = await admin('POST', `/orgs/${orgId}/scim/credentials`, { licenseId });
      const scim = call(t, String(cred.body?.secret));
      const q = (path: string, filter: string) => scim('GET', `${path}?filter=${encodeURIComponent(filter)}`);
      expect((await q('/scim/v2/Users', `userName eq "${seated[3]!.toUpperCase()}"`)).body).toMatchObject({
        totalResults: 1,
        Resources: [{ id: 'old-scim-user', userName: seated[3], name: { familyName: 'Clearname' } }],
      });
      expect((await q('/scim/v2/Users', 'externalId eq "old-ext-1"')).body).toMatchObject({
        totalResults: 1,
      });
      expect((await q('/scim/v2/Groups', 'displayName eq "Old Clear Group"')).body).toMatchObject({
        totalResults: 1,
        Resources: [{ id: 'old-scim-group', members: [{ value: 'old-scim-user' }] }],
      });
    });
  });
}
