/**
 * Accounts: the global `accounts` table, its sealed personal data and the email blind index. Values are sealed
 * under the account's personal org key before any transaction is opened (SQLite has one writer, and the key
 * store opens its own transaction on first use).
 */
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database } from '../../platform/db/connect.ts';
import type { Tables } from '../../platform/db/schema.ts';
import { normaliseEmail, SYSTEM_TENANT, type Cipher } from '../../platform/crypto/index.ts';
import type { AccountsTable } from './tables.ts';

export type AccountRow = Selectable<AccountsTable>;

export interface Account {
  id: string;
  /** The personal org. */
  tenantId: string;
  email: string;
  firstName: string;
  lastName: string;
  emailVerified: boolean;
  mfaEnabled: boolean;
  operator: boolean;
  createdAt: number;
}

type Db = Kysely<Tables> | Transaction<Tables>;
export type SealedAccountColumn =
  | 'email_sealed'
  | 'first_name_sealed'
  | 'last_name_sealed'
  | 'srp_verifier_sealed'
  | 'totp_secret_sealed'
  | 'totp_pending_sealed';

export const SEALED_ACCOUNT_COLUMNS: SealedAccountColumn[] = [
  'email_sealed',
  'first_name_sealed',
  'last_name_sealed',
  'srp_verifier_sealed',
  'totp_secret_sealed',
  'totp_pending_sealed',
];

export class AccountStore {
  constructor(
    private readonly database: Database,
    private readonly cipher: Cipher,
  ) {}

  /** The lookup key of an email: equal for every spelling that normalises alike, meaningless without the key. */
  emailIndex(email: string): Promise<string> {
    return this.cipher.blindIndex(SYSTEM_TENANT, 'accounts.email', email, normaliseEmail);
  }

  seal(
    row: Pick<AccountRow, 'id' | 'tenant_id'>,
    column: SealedAccountColumn,
    value: string,
  ): Promise<Buffer> {
    return this.cipher.seal(row.tenant_id, { table: 'accounts', id: row.id, column }, value);
  }

  openColumn(
    row: Pick<AccountRow, 'id' | 'tenant_id'>,
    column: SealedAccountColumn,
    value: Buffer,
  ): Promise<string> {
    return this.cipher.openText(row.tenant_id, { table: 'accounts', id: row.id, column }, value);
  }

  async byEmail(email: string, db: Db = this.database.db): Promise<AccountRow | undefined> {
    const index = await this.emailIndex(email);
    return db.selectFrom('accounts').selectAll().where('email_index', '=', index).executeTakeFirst();
  }

  byId(id: string, db: Db = this.database.db): Promise<AccountRow | undefined> {
    return db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async open(row: AccountRow): Promise<Account> {
    const [email, firstName, lastName] = await Promise.all([
      this.openColumn(row, 'email_sealed', row.email_sealed),
      this.openColumn(row, 'first_name_sealed', row.first_name_sealed),
      this.openColumn(row, 'last_name_sealed', row.last_name_sealed),
    ]);
    return {
      id: row.id,
      tenantId: row.tenant_id,
      email,
      firstName,
      lastName,
      emailVerified: row.email_verified_at !== null,
      mfaEnabled: row.totp_enabled_at !== null,
      operator: row.operator === 1,
      createdAt: Number(row.created_at),
    };
  }

  async update(
    id: string,
    values: Partial<Omit<AccountRow, 'id' | 'tenant_id'>>,
    db: Db = this.database.db,
  ): Promise<void> {
    await db.updateTable('accounts').set(values).where('id', '=', id).execute();
  }
}

/** What API.md calls "the account". */
export function accountView(a: Account) {
  return {
    id: a.id,
    email: a.email,
    firstName: a.firstName,
    lastName: a.lastName,
    emailVerified: a.emailVerified,
  };
}
