/**
 * Licensing's personal data at rest: a seat's email is sealed with the org's data key, and found by a blind
 * index. The index is keyed by the platform's (system tenant's) index key, not the org's: the validation route
 * must find a caller's seats in every org with one indexed read, before it knows which orgs those are. So one
 * email has one index in every org (rows of two orgs can be linked to each other by a database reader, not
 * read); the email itself opens only with the org's key.
 */
import {
  SYSTEM_TENANT,
  normaliseEmail as normaliseForIndex,
  type Cipher,
} from '../../platform/crypto/index.ts';
import type { TenantScope } from '../../platform/db/tenant.ts';
import { normaliseEmail } from './context.ts';

/** Who holds a seat: the lower-cased email and its blind index. */
export interface SeatHolder {
  readonly email: string;
  readonly index: string;
}

export const SEAT_EMAIL_INDEX_PURPOSE = 'licensing.seat-email';
export const SEALED_SEAT_EMAIL = { table: 'license_assignments', column: 'email_sealed' } as const;

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
}
