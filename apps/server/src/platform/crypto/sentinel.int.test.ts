/**
 * "No plaintext at rest": writes known sentinels through every encrypted path (sealed columns, blind index,
 * signing keys, the mail outbox, blobs), then searches the raw bytes of the SQLite database (with its WAL)
 * and of the blob directory. A control value written in the clear must be found, so the search is real.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { FsBlobBackend } from '../blobs/fs-backend.ts';
import { BlobStore } from '../blobs/store.ts';
import { ManualClock } from '../clock.ts';
import { openDatabase } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrator.ts';
import { ProbeRepository } from '../db/probe-repository.ts';
import { withTenant } from '../db/tenant.ts';
import { JobQueue } from '../jobs/queue.ts';
import { Mailer } from '../mail/index.ts';
import { normaliseEmail } from './cipher.ts';
import { createProbeSecretsTable, createTestCrypto, type ProbeSecretsTable } from './testing.ts';

const SENTINELS = {
  column: 'SENTINEL-column-4b1d9e',
  email: 'sentinel-4b1d9e@example.com',
  mail: 'https://canopy.test/verify?t=SENTINEL-mail-4b1d9e',
  blob: 'SENTINEL-blob-4b1d9e',
  signing: 'SENTINEL-signed-4b1d9e',
};
const CONTROL = 'CONTROL-cleartext-4b1d9e';
type ProbeDb = Kysely<Record<string, ProbeSecretsTable>>;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('no plaintext at rest (SQLite file and blob directory)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'canopy-sentinel-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds none of the sentinels written through encrypted paths, and finds the cleartext control', async () => {
    const dbFile = join(dir, 'db', 'canopy.sqlite');
    const blobDir = join(dir, 'blobs');
    const database = openDatabase(`sqlite:${dbFile}`);
    await migrateToLatest(database);
    const clock = new ManualClock();
    const crypto = createTestCrypto(database, clock);
    const jobs = new JobQueue(database, clock, pino({ level: 'silent' }));
    try {
      await createProbeSecretsTable(database, 'sentinel_secrets');
      await withTenant(database, 'tenant-s', async (scope) => {
        const ref = { table: 'sentinel_secrets', id: 'r1', column: 'secret' };
        await (scope.trx as unknown as ProbeDb)
          .insertInto('sentinel_secrets')
          .values({
            tenant_id: 'tenant-s',
            id: 'r1',
            secret: await crypto.cipher.seal(scope, ref, SENTINELS.column),
          })
          .execute();
        const index = await crypto.cipher.blindIndex(scope, 'users.email', SENTINELS.email, normaliseEmail);
        await (scope.trx as unknown as ProbeDb)
          .insertInto('sentinel_secrets')
          .values({ tenant_id: 'tenant-s', id: index, secret: null })
          .execute();
        await new ProbeRepository(scope).add(CONTROL, 1);
      });
      const mailer = new Mailer(
        { database, cipher: crypto.cipher, jobs, clock, logger: pino({ level: 'silent' }) },
        { from: 'x@canopy.test' },
      );
      await mailer.send({ to: SENTINELS.email, template: 'verify_email', data: { link: SENTINELS.mail } });
      await jobs.drain();
      await crypto.signing.sign('license', Buffer.from(SENTINELS.signing));
      const blobs = new BlobStore('default', new FsBlobBackend(blobDir), crypto.keys);
      await blobs.put('tenant-s', 'notes/n1', Buffer.from(SENTINELS.blob.repeat(1000)));
      expect((await blobs.getBuffer('tenant-s', 'notes/n1')).toString().startsWith(SENTINELS.blob)).toBe(
        true,
      );
      expect((await mailer.list())[0]?.text).toContain(SENTINELS.mail);
    } finally {
      await database.close();
      crypto.cleanup();
    }

    const files = [...filesUnder(join(dir, 'db')), ...filesUnder(blobDir)];
    expect(files.some((f) => f.endsWith('canopy.sqlite'))).toBe(true);
    expect(files.filter((f) => f.startsWith(blobDir))).toHaveLength(1);
    const haystack = Buffer.concat(files.map((f) => readFileSync(f)));
    expect(haystack.includes(Buffer.from(CONTROL))).toBe(true);
    for (const [where, sentinel] of Object.entries(SENTINELS)) {
      expect(haystack.includes(Buffer.from(sentinel)), where).toBe(false);
      expect(haystack.includes(Buffer.from('4b1d9e@example')), `${where} (email)`).toBe(false);
      expect(haystack.includes(Buffer.from(sentinel, 'utf16le')), `${where} (utf-16)`).toBe(false);
    }
    expect(haystack.includes(Buffer.from('SENTINEL'))).toBe(false);
  });
});
