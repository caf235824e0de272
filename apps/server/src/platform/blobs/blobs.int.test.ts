import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.ts';
import { openDatabase, type Database } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrator.ts';
import { createTestDatabase, type TestDatabase } from '../db/testing.ts';
import { AppError } from '../errors.ts';
import { createTestCrypto, type TestCrypto } from '../crypto/testing.ts';
import type { BlobBackend } from './backend.ts';
import { FsBlobBackend } from './fs-backend.ts';
import { BlobStore } from './store.ts';
import { BlobIntegrityError } from './stream-format.ts';
import { s3Enabled, startLocalS3, type LocalS3 } from './testing.ts';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function* pieces(total: number, pieceBytes: number, seed: Buffer): AsyncIterable<Buffer> {
  for (let sent = 0; sent < total; sent += pieceBytes) {
    const n = Math.min(pieceBytes, total - sent);
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = seed[(sent + i) % seed.length]!;
    yield out;
  }
}

/** The suite every blob backend passes. */
function blobStoreSuite(
  name: string,
  setup: () => Promise<{ backend: BlobBackend; leftovers?: () => string[]; teardown: () => Promise<void> }>,
) {
  describe(`blob store [${name}]`, () => {
    let database: Database;
    let testDb: TestDatabase;
    let crypto: TestCrypto;
    let backend: BlobBackend;
    let store: BlobStore;
    let env: Awaited<ReturnType<typeof setup>>;
    const clock = new ManualClock();

    beforeAll(async () => {
      testDb = await createTestDatabase('sqlite');
      database = openDatabase(testDb.url);
      await migrateToLatest(database);
      crypto = createTestCrypto(database, clock);
      env = await setup();
      backend = env.backend;
      store = new BlobStore('default', backend, crypto.keys, { maxBytes: 16 * 1024 * 1024 });
    });
    afterAll(async () => {
      await env.teardown();
      await database.close();
      await testDb.drop();
      crypto.cleanup();
    });

    it('answers its readiness check', async () => {
      await expect(backend.ping()).resolves.toBeUndefined();
    });

    it('stores and reads back small, empty and chunk-boundary blobs', async () => {
      for (const size of [0, 1, 65_535, 65_536, 65_537, 3 * 65_536]) {
        const data = randomBytes(size);
        expect(await store.put('t1', `sizes/${size}.bin`, data)).toEqual({ size });
        expect(sha(await store.getBuffer('t1', `sizes/${size}.bin`))).toBe(sha(data));
      }
    });

    it('streams a 12 MiB blob in and out (multipart on S3)', async () => {
      const seed = randomBytes(4099);
      const total = 12 * 1024 * 1024 + 17;
      const expected = createHash('sha256');
      for await (const p of pieces(total, 300_000, seed)) expected.update(p);
      expect(await store.put('t1', 'big/blob.bin', Readable.from(pieces(total, 300_000, seed)))).toEqual({
        size: total,
      });
      const got = createHash('sha256');
      let n = 0;
      for await (const c of await store.get('t1', 'big/blob.bin')) {
        got.update(c as Buffer);
        n += (c as Buffer).length;
      }
      expect(n).toBe(total);
      expect(got.digest('hex')).toBe(expected.digest('hex'));
    });

    it('stores ciphertext only: the plaintext is nowhere in the stored bytes', async () => {
      const sentinel = Buffer.from('SENTINEL-blob-plaintext-7f3a'.repeat(100));
      await store.put('t1', 'secret.txt', sentinel);
      const raw: Buffer[] = [];
      for await (const c of (await backend.get('t1/secret.txt'))!) raw.push(c as Buffer);
      const stored = Buffer.concat(raw);
      expect(stored.subarray(0, 4).toString()).toBe('CNBL');
      expect(stored.includes(Buffer.from('SENTINEL'))).toBe(false);
    });

    it('replaces a blob atomically and deletes it', async () => {
      await store.put('t1', 'doc', Buffer.from('one'));
      await store.put('t1', 'doc', Buffer.from('two'));
      expect((await store.getBuffer('t1', 'doc')).toString()).toBe('two');
      expect(await store.exists('t1', 'doc')).toBe(true);
      expect(await store.delete('t1', 'doc')).toBe(true);
      expect(await store.delete('t1', 'doc')).toBe(false);
      await expect(store.get('t1', 'doc')).rejects.toMatchObject({ status: 404 });
    });

    it('refuses a blob over the limit and leaves nothing behind', async () => {
      await expect(
        store.put('t1', 'too/big', Readable.from(pieces(200_000, 10_000, randomBytes(10))), {
          maxBytes: 100_000,
        }),
      ).rejects.toMatchObject({
        status: 413,
        code: 'too_large',
      });
      expect(await store.exists('t1', 'too/big')).toBe(false);
      expect(env.leftovers?.() ?? []).toEqual([]);
      // A store-wide ceiling applies even when a caller asks for more.
      const small = new BlobStore('small', backend, crypto.keys, { maxBytes: 1_000 });
      await expect(small.put('t1', 'x', randomBytes(1_001), { maxBytes: 10_000_000 })).rejects.toMatchObject({
        status: 413,
      });
    });

    it('refuses keys that could escape the tenant folder', async () => {
      for (const key of [
        '../t2/x',
        'a/../../t2/x',
        '/abs',
        'a//b',
        '',
        '.',
        '..',
        'a\\b',
        '.hidden',
        'a/.tmp-x',
        'nul\0byte',
        'a/',
      ]) {
        await expect(store.put('t1', key, Buffer.from('x')), key).rejects.toBeInstanceOf(AppError);
      }
      await expect(store.put('../t1', 'x', Buffer.from('x'))).rejects.toMatchObject({
        code: 'invalid_blob_key',
      });
      await expect(store.get('t1', '../t2/x')).rejects.toMatchObject({ code: 'invalid_blob_key' });
    });

    it("lists and deletes only the tenant's own blobs", async () => {
      await store.put('t-list', 'maps/a', Buffer.from('a'));
      await store.put('t-list', 'maps/b', Buffer.from('b'));
      await store.put('t-list', 'other/c', Buffer.from('c'));
      await store.put('t-list2', 'maps/a', Buffer.from('z'));
      expect(await store.list('t-list', 'maps/')).toEqual(['maps/a', 'maps/b']);
      expect(await store.deleteTenant('t-list')).toBe(3);
      expect(await store.list('t-list')).toEqual([]);
      expect((await store.getBuffer('t-list2', 'maps/a')).toString()).toBe('z');
    });

    it("fails to read a blob that was altered, truncated, or copied into another tenant's or blob's place", async () => {
      const data = randomBytes(150_000);
      await store.put('t1', 'victim', data);
      const raw: Buffer[] = [];
      for await (const c of (await backend.get('t1/victim'))!) raw.push(c as Buffer);
      const stored = Buffer.concat(raw);
      const putRaw = (path: string, bytes: Buffer) =>
        backend.put(path, Readable.from([bytes]), { maxBytes: 1e9 });

      for (const offset of [10, 40, 70_000, stored.length - 1]) {
        const bad = Buffer.from(stored);
        bad[offset] = bad[offset]! ^ 1;
        await putRaw('t1/tampered', bad);
        await expect(store.getBuffer('t1', 'tampered'), `offset ${offset}`).rejects.toBeInstanceOf(Error);
      }
      await putRaw('t1/truncated', stored.subarray(0, 37 + 65_536 + 16)); // ends at a chunk boundary
      await expect(store.getBuffer('t1', 'truncated')).rejects.toBeInstanceOf(BlobIntegrityError);
      await putRaw('t2/victim', stored);
      await expect(store.getBuffer('t2', 'victim')).rejects.toBeInstanceOf(Error);
      await putRaw('t1/renamed', stored);
      await expect(store.getBuffer('t1', 'renamed')).rejects.toBeInstanceOf(BlobIntegrityError);
      expect(sha(await store.getBuffer('t1', 'victim'))).toBe(sha(data));
    });

    it('re-encrypts blobs when the tenant key rotates, then reports the old key unused', async () => {
      const user = store.asDataKeyUser();
      await store.put('t-rot', 'a', Buffer.from('alpha'));
      await store.put('t-rot', 'b', randomBytes(70_000));
      const before = await store.getBuffer('t-rot', 'b');
      expect(await user.versionsInUse('t-rot')).toEqual(new Map([[1, 2]]));
      const { to } = await crypto.keys.rotate('t-rot');
      expect(await user.reencrypt('t-rot', to, async () => {})).toBe(2);
      expect(await user.versionsInUse('t-rot')).toEqual(new Map([[2, 2]]));
      expect((await store.getBuffer('t-rot', 'a')).toString()).toBe('alpha');
      expect((await store.getBuffer('t-rot', 'b')).equals(before)).toBe(true);
    });

    it('cannot be read after the tenant is crypto-shredded', async () => {
      await store.put('t-shred', 'x', Buffer.from('gone'));
      await crypto.keys.shred('t-shred');
      await expect(store.getBuffer('t-shred', 'x')).rejects.toThrow(/crypto-shredded/);
    });
  });
}

blobStoreSuite('fs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'canopy-blobs-'));
  const listAll = (d: string): string[] =>
    readdirSync(d, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
  return {
    backend: new FsBlobBackend(dir),
    leftovers: () => listAll(dir).filter((f) => f.includes('.tmp-') || f.includes('too')),
    teardown: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

if (s3Enabled()) {
  let s3: LocalS3 | undefined;
  blobStoreSuite('s3', async () => {
    s3 = await startLocalS3();
    const backend = await s3.backend(`canopy-test-${randomBytes(4).toString('hex')}`);
    return {
      backend,
      teardown: async () => {
        await backend.close();
        await s3?.stop();
      },
    };
  });
} else {
  describe.skip('blob store [s3] (set CANOPY_TEST_S3=1)', () => {
    it('runs the same suite against a local S3-protocol server', () => {});
  });
}
