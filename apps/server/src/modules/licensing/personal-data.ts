/**
 * Licensing's personal data at rest: a seat's email is sealed with the org's data key, and found by a blind
 * index. The index is keyed by the platform's (system tenant's) index key, not the org's: the validation route
 * must find a caller's seats in every org with one indexed read, before it knows which orgs those are. So one
 * email has one index in every org (rows of two orgs can be linked to each other by a database reader, not
 * read); the email itself opens only with the org's key.
 *
 * A machine's fingerprint (it identifies one person's device) and name are sealed with the org's data key too;
 * the fingerprint is found by a blind index keyed by the org's own index key, since an activation is always
 * looked up inside its licence's org.
 */
import {
  SYSTEM_TENANT,
  normaliseEmail as normaliseForIndex,
  type Cipher,
} from '../../platform/crypto/index.ts';
import type { TenantScope } from '../../platform/db/tenant.ts';
import { normaliseEmail } from './context.ts';
import type { LicenseDevicesTable } from './tables.ts';

/** Who holds a seat: the lower-cased email and its blind index. */
export interface SeatHolder {
  readonly email: string;
  readonly index: string;
}

export const SEAT_EMAIL_INDEX_PURPOSE = 'licensing.seat-email';
export const SEALED_SEAT_EMAIL = { table: 'license_assignments', column: 'email_sealed' } as const;

export const MACHINE_FINGERPRINT_INDEX_PURPOSE = 'licensing.machine-fingerprint';
export const SEALED_MACHINE_FINGERPRINT = { table: 'license_devices', column: 'fingerprint_sealed' } as const;
export const SEALED_MACHINE_NAME = { table: 'license_devices', column: 'name_sealed' } as const;

/** A machine activation as licensing works with it: its row with the fingerprint and name opened. */
export interface OpenedActivation {
  tenant_id: string;
  id: string;
  license_id: string;
  email_index: string;
  fingerprint: string;
  name: string | null;
  created_at: number;
  last_heartbeat_at: number;
}

export class SeatPersonalData {
  constructor(private readonly platformCipher: Cipher | undefined) {}

  /** The platform cipher (SCIM records use it too); throws in a service built without it (the operator CLI). */
  cipher(): Cipher {
    if (!this.platformCipher)
      throw new Error('licensing was built without the platform cipher: seats and SCIM are unavailable');
    return this.platformCipher;
  }

  /**
   * The holder of `email`. Call it outside any transaction: the platform's index key may need a read of its
   * own, which on SQLite (one connection) would wait for an open transaction forever.
   */
  async holder(email: string): Promise<SeatHolder> {
    const normal = normaliseEmail(email);
    const index = await this.cipher().blindIndex(
      SYSTEM_TENANT,
      SEAT_EMAIL_INDEX_PURPOSE,
      normal,
      normaliseForIndex,
    );
    return { email: normal, index };
  }

  /** Inside the org's transaction, pass its scope; outside any, its id. */
  sealFor(scope: TenantScope | string, seatId: string, email: string): Promise<Buffer> {
    return this.cipher().seal(scope, { ...SEALED_SEAT_EMAIL, id: seatId }, email);
  }

  open(scope: TenantScope, seatId: string, sealed: Uint8Array): Promise<string> {
    return this.cipher().openText(scope, { ...SEALED_SEAT_EMAIL, id: seatId }, sealed);
  }

  /** The blind index of a machine fingerprint in an org. Call it outside any transaction (see `holder`). */
  fingerprintIndex(tenantId: string, fingerprint: string): Promise<string> {
    // Exact: a fingerprint is an opaque client string, not text to normalise.
    return this.cipher().blindIndex(tenantId, MACHINE_FINGERPRINT_INDEX_PURPOSE, fingerprint, (v) => v);
  }

  /** The sealed columns of a new activation `id` (outside any transaction, like `holder`). */
  async sealMachine(
    tenantId: string,
    id: string,
    fingerprint: string,
    name: string | null,
  ): Promise<{ fingerprint_sealed: Buffer; name_sealed: Buffer | null }> {
    return {
      fingerprint_sealed: await this.cipher().seal(
        tenantId,
        { ...SEALED_MACHINE_FINGERPRINT, id },
        fingerprint,
      ),
      name_sealed: await this.sealMachineName(tenantId, id, name),
    };
  }

  sealMachineName(tenantId: string, id: string, name: string | null): Promise<Buffer | null> {
    return this.cipher().sealNullable(tenantId, { ...SEALED_MACHINE_NAME, id }, name);
  }

  async openMachine(scope: TenantScope | string, row: LicenseDevicesTable): Promise<OpenedActivation> {
    const cipher = this.cipher();
    const { fingerprint_sealed, name_sealed, fingerprint_index: _index, ...rest } = row;
    return {
      ...rest,
      fingerprint: await cipher.openText(
        scope,
        { ...SEALED_MACHINE_FINGERPRINT, id: row.id },
        fingerprint_sealed,
      ),
      name: await cipher.openTextNullable(scope, { ...SEALED_MACHINE_NAME, id: row.id }, name_sealed),
    };
  }
}
