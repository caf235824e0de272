/**
 * What repositories use: one line to seal or open a column value, one line for a blind index.
 *
 *   const sealed = await cipher.seal(scope, { table: 'users', id, column: 'email' }, email);
 *   const email = await cipher.openText(scope, { table: 'users', id, column: 'email' }, row.email);
 *   const emailIndex = await cipher.blindIndex(scope, 'users.email', email, normaliseEmail);
 *
 * Pass the open `TenantScope` when inside its transaction (or a tenant id outside any transaction).
 */
import { createHmac } from 'node:crypto';
import { type KeyContext, type TenantKeyStore } from './tenant-keys.ts';
import {
  bindingAad,
  deriveKey,
  openValue,
  sealValue,
  sealedKeyVersion,
  valueSealer,
  type ValueBinding,
} from './value-format.ts';

export interface FieldRef {
  table: string;
  /** The record's id (for composite keys, its parts joined in a fixed order). */
  id: string;
  column: string;
}

const tenantOf = (ctx: KeyContext) => (typeof ctx === 'string' ? ctx : ctx.tenantId);
const binding = (ctx: KeyContext, ref: FieldRef): ValueBinding => ({
  tenantId: tenantOf(ctx),
  table: ref.table,
  id: ref.id,
  column: ref.column,
});

/** Lower-cased, trimmed, NFC: two spellings of one address index alike. */
export function normaliseEmail(email: string): string {
  return email.normalize('NFC').trim().toLowerCase();
}

/** Bindings' AADs kept for `sealerFor` (they hold no secret); the oldest made goes first. */
const MAX_AADS = 1024;

export class Cipher {
  /**
   * The AAD of each field `sealerFor` was asked for: a co-editing map's log asks for its sealer at every commit,
   * and encoding the binding each time was ~3 KB of garbage per edit (sampling heap profile, session 12). Only
   * the AAD is kept: a sealer holds the tenant's key, which must not outlive the key cache's 60 s.
   */
  private readonly aads = new Map<string, Buffer>();

  constructor(readonly keys: TenantKeyStore) {}

  async seal(ctx: KeyContext, ref: FieldRef, plaintext: string | Uint8Array): Promise<Buffer> {
    const { version, key } = await this.keys.activeKey(ctx, 'data');
    const bytes = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    return sealValue(key, version, binding(ctx, ref), bytes);
  }

  /**
   * `seal` as a synchronous function under the tenant's active key as of now, for sealing inside a
   * synchronous transaction (the collab log's append). Use it at once: a key rotated afterwards is not seen.
   */
  async sealerFor(ctx: KeyContext, ref: FieldRef): Promise<(plaintext: Uint8Array) => Buffer> {
    const { version, key } = await this.keys.activeKey(ctx, 'data');
    const id = `${tenantOf(ctx)}\u0000${ref.table}\u0000${ref.id}\u0000${ref.column}`;
    const place = binding(ctx, ref);
    let aad = this.aads.get(id);
    if (!aad) {
      aad = bindingAad(place);
      if (this.aads.size >= MAX_AADS) this.aads.delete(this.aads.keys().next().value!);
      this.aads.set(id, aad);
    }
    const seal = valueSealer(key, version, place, aad);
    return (plaintext) => seal(plaintext);
  }

  async open(ctx: KeyContext, ref: FieldRef, sealed: Uint8Array): Promise<Buffer> {
    const key = await this.keys.keyVersion(ctx, 'data', sealedKeyVersion(sealed));
    return openValue(key, binding(ctx, ref), sealed);
  }

  async openText(ctx: KeyContext, ref: FieldRef, sealed: Uint8Array): Promise<string> {
    return (await this.open(ctx, ref, sealed)).toString('utf8');
  }

  async sealNullable(
    ctx: KeyContext,
    ref: FieldRef,
    plaintext: string | Uint8Array | null | undefined,
  ): Promise<Buffer | null> {
    return plaintext === null || plaintext === undefined ? null : this.seal(ctx, ref, plaintext);
  }

  async openTextNullable(
    ctx: KeyContext,
    ref: FieldRef,
    sealed: Uint8Array | null | undefined,
  ): Promise<string | null> {
    return sealed === null || sealed === undefined ? null : this.openText(ctx, ref, sealed);
  }

  /** Re-seals under the tenant's active key if `sealed` uses another version; returns undefined when current. */
  async reseal(ctx: KeyContext, ref: FieldRef, sealed: Uint8Array): Promise<Buffer | undefined> {
    const { version } = await this.keys.activeKey(ctx, 'data');
    if (sealedKeyVersion(sealed) === version) return undefined;
    return this.seal(ctx, ref, await this.open(ctx, ref, sealed));
  }

  /**
   * A keyed blind index: HMAC-SHA256 under a key derived from the tenant's index key and `purpose`, as 43
   * base64url characters. Equal (normalised) inputs give equal indexes within one tenant and purpose, and
   * nothing about the value can be learnt without the key. Look rows up by this, never by plaintext.
   */
  async blindIndex(
    ctx: KeyContext,
    purpose: string,
    value: string,
    normalise: (v: string) => string = (v) => v.normalize('NFC'),
  ): Promise<string> {
    const { key } = await this.keys.activeKey(ctx, 'index');
    const hmacKey = deriveKey(key, Buffer.alloc(0), Buffer.from(`canopy/v1/blind-index/${purpose}`, 'utf8'));
    return createHmac('sha256', hmacKey).update(normalise(value), 'utf8').digest('base64url');
  }
}
