import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createInProcessPubSub, InProcessHub } from '../pubsub/index.ts';
import { ManualClock } from '../clock.ts';
import { describeEachDialect } from '../db/testing.ts';
import { withSystemContext, withTenant } from '../db/tenant.ts';
import {
  DecryptionError,
  linkKeyCacheToPubSub,
  normaliseEmail,
  TenantKeyStore,
  TenantKeysDestroyedError,
} from './index.ts';
import { createProbeSecretsTable, createTestCrypto, type TestCrypto } from './testing.ts';
import { sealedKeyVersion } from './value-format.ts';

describeEachDialect('envelope encryption', (h) => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  let crypto: TestCrypto;
  const ref = (id: string) => ({ table: 'cipher_probe', id, column: 'secret' });

  beforeAll(async () => {
    crypto = createTestCrypto(h.database, clock);
    await createProbeSecretsTable(h.database, 'cipher_probe');
  });
  afterAll(() => crypto.cleanup());

  describe('the keyring file', () => {
    it('is created on first start, readable by its owner only, with one current version', () => {
      const file = join(crypto.dir, 'keyring.json');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const ring = JSON.parse(readFileSync(file, 'utf8')) as {
        format: string;
        current: number;
        keys: { key: string }[];
      };
      expect(ring.format).toBe('canopy-keyring');
      expect(ring.current).toBe(1);
      expect(Buffer.from(ring.keys[0]!.key, 'base64')).toHaveLength(32);
    });
  });

  it('seals and opens a value inside a tenant scope and with a bare tenant id', async () => {
    const sealed = await withTenant(h.database, 't-1', (s) =>
      crypto.cipher.seal(s, ref('r1'), 'ada@example.com'),
    );
    expect(sealed.includes(Buffer.from('ada@example.com'))).toBe(false);
    expect(await crypto.cipher.openText('t-1', ref('r1'), sealed)).toBe('ada@example.com');
    expect(await withTenant(h.database, 't-1', (s) => crypto.cipher.openText(s, ref('r1'), sealed))).toBe(
      'ada@example.com',
    );
  });

  it('seals synchronously under the active key with sealerFor, bound to its tenant and row', async () => {
    const seal = await crypto.cipher.sealerFor('t-1', ref('r3'));
    const a = seal(Buffer.from('first'));
    const b = seal(Buffer.from('first'));
    expect(a.equals(b)).toBe(false); // a salt and an IV of its own each
    expect(await crypto.cipher.openText('t-1', ref('r3'), a)).toBe('first');
    expect(await crypto.cipher.openText('t-1', ref('r3'), b)).toBe('first');
    await expect(crypto.cipher.open('t-1', ref('r4'), a)).rejects.toThrow(DecryptionError);
    await expect(crypto.cipher.open('t-2', ref('r3'), a)).rejects.toThrow();
  });

  it('seals with sealerFor under the key active when asked, through rotations and shredding', async () => {
    const first = await crypto.cipher.sealerFor('t-reuse', ref('r1'));
    const before = first(Buffer.from('before'));
    await crypto.keys.rotate('t-reuse');
    const rotated = await crypto.cipher.sealerFor('t-reuse', ref('r1'));
    const after = rotated(Buffer.from('after'));
    expect(sealedKeyVersion(after)).toBe(sealedKeyVersion(before) + 1);
    expect(await crypto.cipher.openText('t-reuse', ref('r1'), before)).toBe('before');
    expect(await crypto.cipher.openText('t-reuse', ref('r1'), after)).toBe('after');
    // The binding (kept for the field between calls) is still the field's own.
    const other = (await crypto.cipher.sealerFor('t-reuse', ref('r2')))(Buffer.from('other'));
    await expect(crypto.cipher.open('t-reuse', ref('r1'), other)).rejects.toThrow(DecryptionError);
    expect(await crypto.cipher.openText('t-reuse', ref('r2'), other)).toBe('other');
    await crypto.keys.shred('t-reuse');
    await expect(crypto.cipher.sealerFor('t-reuse', ref('r1'))).rejects.toThrow(TenantKeysDestroyedError);
  });

  it('stores one wrapped data key per tenant, never the key itself', async () => {
    await crypto.cipher.seal('t-2', ref('r1'), 'x');
    const rows = await withSystemContext(h.database, 'test', (trx) =>
      trx
        .selectFrom('tenant_data_keys')
        .selectAll()
        .where('tenant_id', 'in', ['t-1', 't-2'])
        .where('purpose', '=', 'data')
        .execute(),
    );
    expect(rows.map((r) => [r.tenant_id, Number(r.version), r.state, Number(r.kek_version)]).sort()).toEqual([
      ['t-1', 1, 'active', 1],
      ['t-2', 1, 'active', 1],
    ]);
    for (const r of rows) expect(Buffer.from(r.wrapped_key!)).toHaveLength(12 + 32 + 16);
  });

  it("refuses a value moved to another tenant's row, another row or another column", async () => {
    const sealed = await crypto.cipher.seal('t-1', ref('r1'), 'secret of t-1');
    // Written into tenant 2's table row with the same id: decrypts under t-2's key and binding, and must fail.
    await expect(crypto.cipher.open('t-2', ref('r1'), sealed)).rejects.toThrow(DecryptionError);
    await expect(crypto.cipher.open('t-1', ref('r2'), sealed)).rejects.toThrow(DecryptionError);
    await expect(crypto.cipher.open('t-1', { ...ref('r1'), column: 'other' }, sealed)).rejects.toThrow(
      DecryptionError,
    );
    await expect(crypto.cipher.open('t-1', { ...ref('r1'), table: 'other' }, sealed)).rejects.toThrow(
      DecryptionError,
    );
  });

  it('gives one first key to concurrent first writers', async () => {
    const sealed = await Promise.all(
      Array.from({ length: 8 }, (_, i) => crypto.cipher.seal('t-race', ref(`r${i}`), `v${i}`)),
    );
    crypto.keys.invalidate();
    for (const [i, s] of sealed.entries())
      expect(await crypto.cipher.openText('t-race', ref(`r${i}`), s)).toBe(`v${i}`);
  });

  describe('blind index', () => {
    it('matches normalised spellings of an email, within one tenant and purpose only', async () => {
      const a = await crypto.cipher.blindIndex('t-1', 'users.email', 'Ada@Example.com ', normaliseEmail);
      const b = await crypto.cipher.blindIndex('t-1', 'users.email', 'ada@example.com', normaliseEmail);
      expect(a).toBe(b);
      expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(
        await crypto.cipher.blindIndex('t-2', 'users.email', 'ada@example.com', normaliseEmail),
      ).not.toBe(a);
      expect(
        await crypto.cipher.blindIndex('t-1', 'invites.email', 'ada@example.com', normaliseEmail),
      ).not.toBe(a);
      expect(
        await crypto.cipher.blindIndex('t-1', 'users.email', 'bob@example.com', normaliseEmail),
      ).not.toBe(a);
    });

    it('survives a tenant data key rotation unchanged (the index key is separate)', async () => {
      const before = await crypto.cipher.blindIndex('t-bi', 'users.email', 'x@y.z');
      await crypto.cipher.seal('t-bi', ref('r'), 'v');
      await crypto.keys.rotate('t-bi');
      expect(await crypto.cipher.blindIndex('t-bi', 'users.email', 'x@y.z')).toBe(before);
    });
  });

  describe('crypto-shredding', () => {
    it("makes a tenant's values unreadable and refuses new ones, leaving other tenants alone", async () => {
      const mine = await crypto.cipher.seal('t-gone', ref('r1'), 'to be forgotten');
      const theirs = await crypto.cipher.seal('t-stays', ref('r1'), 'kept');
      await crypto.keys.shred('t-gone');
      await expect(crypto.cipher.open('t-gone', ref('r1'), mine)).rejects.toThrow(TenantKeysDestroyedError);
      await expect(crypto.cipher.seal('t-gone', ref('r2'), 'new')).rejects.toThrow(TenantKeysDestroyedError);
      expect(await crypto.cipher.openText('t-stays', ref('r1'), theirs)).toBe('kept');
      const left = await withSystemContext(h.database, 'test', (trx) =>
        trx
          .selectFrom('tenant_data_keys')
          .select(['wrapped_key'])
          .where('tenant_id', '=', 't-gone')
          .execute(),
      );
      expect(left).toEqual([{ wrapped_key: null }]);
    });
  });

  describe('key cache', () => {
    it('reloads keys after its time-to-live, so another node sees a rotation', async () => {
      const other = createTestCrypto(h.database, clock, { keyringPath: join(crypto.dir, 'keyring.json') });
      const v1 = await other.cipher.seal('t-cache', ref('r'), 'a');
      await crypto.keys.rotate('t-cache');
      expect((await other.keys.activeKey('t-cache', 'data')).version).toBe(1); // cached
      clock.advance(other.keys.cacheTtlMs);
      expect((await other.keys.activeKey('t-cache', 'data')).version).toBe(2);
      expect(await other.cipher.openText('t-cache', ref('r'), v1)).toBe('a');
      other.cleanup();
    });
  });

  describe('key cache bus', () => {
    it('drops other nodes’ cached keys at once when a tenant is shredded', async () => {
      const hub = new InProcessHub();
      const nodeA = createTestCrypto(h.database, clock, { keyringPath: join(crypto.dir, 'keyring.json') });
      const nodeB = createTestCrypto(h.database, clock, { keyringPath: join(crypto.dir, 'keyring.json') });
      const links = [
        await linkKeyCacheToPubSub(nodeA.keys, createInProcessPubSub({ hub })),
        await linkKeyCacheToPubSub(nodeB.keys, createInProcessPubSub({ hub })),
      ];
      const sealed = await nodeA.cipher.seal('t-bus', ref('r'), 'v');
      expect(await nodeB.cipher.openText('t-bus', ref('r'), sealed)).toBe('v'); // B now caches the key
      await nodeA.keys.shred('t-bus');
      await vi.waitFor(() =>
        expect(nodeB.cipher.open('t-bus', ref('r'), sealed)).rejects.toThrow(TenantKeysDestroyedError),
      );
      for (const unlink of links) await unlink();
      nodeA.cleanup();
      nodeB.cleanup();
    });

    it('drops every cached key when the pub/sub connection comes back (announcements may be lost)', async () => {
      const hub = new InProcessHub();
      const nodeA = createTestCrypto(h.database, clock, { keyringPath: join(crypto.dir, 'keyring.json') });
      const nodeB = createTestCrypto(h.database, clock, { keyringPath: join(crypto.dir, 'keyring.json') });
      // B's pub/sub loses its connection while A shreds the tenant: the announcement never reaches B.
      const resubscribed = new Set<() => void>();
      const lossy = {
        ...createInProcessPubSub({ hub }),
        onReconnected: (l: () => void) => {
          resubscribed.add(l);
          return () => void resubscribed.delete(l);
        },
      };
      const unlink = await linkKeyCacheToPubSub(nodeB.keys, lossy);
      const sealed = await nodeA.cipher.seal('t-lost', ref('r'), 'v');
      expect(await nodeB.cipher.openText('t-lost', ref('r'), sealed)).toBe('v'); // B now caches the key
      await nodeA.keys.shred('t-lost');
      expect(await nodeB.cipher.openText('t-lost', ref('r'), sealed)).toBe('v'); // still cached
      for (const l of resubscribed) l();
      await expect(nodeB.cipher.open('t-lost', ref('r'), sealed)).rejects.toThrow(TenantKeysDestroyedError);
      await unlink();
      expect(resubscribed.size).toBe(0);
      nodeA.cleanup();
      nodeB.cleanup();
    });
  });

  describe('key cache bound', () => {
    it('keeps at most maxCachedTenants tenants, evicting the least recently used', async () => {
      let unwraps = 0;
      const real = crypto.keys.provider;
      const counting = Object.create(real, {
        unwrap: { value: (v: number, w: Uint8Array, a: Uint8Array) => (unwraps++, real.unwrap(v, w, a)) },
      }) as typeof real;
      const small = new TenantKeyStore(h.database, counting, clock, { maxCachedTenants: 2 });
      for (const t of ['lru-1', 'lru-2']) await crypto.cipher.seal(t, ref('r'), 'x'); // create the keys
      await small.activeKey('lru-1', 'data');
      await small.activeKey('lru-2', 'data');
      await small.activeKey('lru-1', 'data'); // hit; lru-2 is now the oldest
      expect(unwraps).toBe(2);
      await crypto.cipher.seal('lru-3', ref('r'), 'x');
      await small.activeKey('lru-3', 'data'); // evicts lru-2
      await small.activeKey('lru-1', 'data'); // still cached
      expect(unwraps).toBe(3);
      await small.activeKey('lru-2', 'data'); // reloaded
      expect(unwraps).toBe(4);
    });
  });

  describe('signing keys', () => {
    it('signs with Ed25519 under a key id, rotates, and still verifies with the retired key', async () => {
      const data = Buffer.from('licence token body');
      const first = await crypto.signing.sign('license', data);
      expect(await crypto.signing.verify('license', first.kid, data, first.signature)).toBe(true);
      expect(
        await crypto.signing.verify('license', first.kid, Buffer.from('tampered'), first.signature),
      ).toBe(false);
      const newKid = await crypto.signing.rotate('license');
      const second = await crypto.signing.sign('license', data);
      expect(second.kid).toBe(newKid);
      expect(second.kid).not.toBe(first.kid);
      expect(await crypto.signing.verify('license', first.kid, data, first.signature)).toBe(true);
      expect(await crypto.signing.verify('template_feed', first.kid, data, first.signature)).toBe(false);
      const jwks = await crypto.signing.jwks('license');
      expect(jwks.keys.map((k) => [k.kid, k.status])).toEqual([
        [second.kid, 'active'],
        [first.kid, 'retired'],
      ]);
      const { subtle } = globalThis.crypto;
      const pub = await subtle.importKey(
        'jwk',
        { kty: 'OKP', crv: 'Ed25519', x: jwks.keys[1]!.x },
        { name: 'Ed25519' },
        false,
        ['verify'],
      );
      expect(await subtle.verify({ name: 'Ed25519' }, pub, first.signature, data)).toBe(true);
    });

    it('keeps private keys sealed in the table', async () => {
      const rows = await withSystemContext(h.database, 'test', (trx) =>
        trx.selectFrom('signing_keys').selectAll().execute(),
      );
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) expect(Buffer.from(r.private_sealed)[0]).toBe(1); // sealed-value format v1
    });

    it('MACs webhooks with a rotating HMAC secret', async () => {
      const body = Buffer.from('{"event":"x"}');
      const { kid, mac } = await crypto.signing.mac('webhook', body);
      expect(mac).toHaveLength(32);
      expect(await crypto.signing.verify('webhook', kid, body, mac)).toBe(true);
      await crypto.signing.rotate('webhook');
      expect(await crypto.signing.verify('webhook', kid, body, mac)).toBe(true);
      expect((await crypto.signing.mac('webhook', body)).kid).not.toBe(kid);
    });
  });
});
