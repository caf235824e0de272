/**
 * SCIM users and groups of one org, sealed at rest: each record's personal data (userName, emails, names,
 * externalId, the seat's email; a group's name and members) is one JSON value sealed with the org's data key;
 * filters go by blind indexes under the org's index key. Callers see opened records (`ScimUsersTable`,
 * `ScimGroupsTable`), as if nothing were sealed.
 */
import type { Cipher } from '../../platform/crypto/index.ts';
import { TenantRepository, type TenantScope } from '../../platform/db/tenant.ts';
import type {
  LicenseScimGroupsTable,
  LicenseScimUsersTable,
  ScimGroupsTable,
  ScimUsersTable,
} from './tables.ts';

export const SEALED_SCIM_COLUMNS = [
  { table: 'license_scim_users', column: 'record_sealed' },
  { table: 'license_scim_groups', column: 'record_sealed' },
] as const;

/** SCIM's userName and displayName are not case-exact (RFC 7643 §4.1.1, §4.2); externalId is. */
export const scimName = (v: string) => v.normalize('NFC').toLowerCase();
export const SCIM_INDEX = {
  userName: 'licensing.scim.user-name',
  externalId: 'licensing.scim.external-id',
  displayName: 'licensing.scim.group-name',
} as const;

type UserSealed = Pick<ScimUsersTable, 'user_name' | 'seat_email' | 'external_id' | 'resource'>;
type GroupSealed = Pick<ScimGroupsTable, 'display_name' | 'external_id' | 'members'>;
type KeyContext = TenantScope | string;

/** The stored form of a user record (shared with the start-up move of the old clear rows). */
export async function sealScimUser(
  cipher: Cipher,
  ctx: KeyContext,
  row: Omit<ScimUsersTable, 'tenant_id'>,
): Promise<Omit<LicenseScimUsersTable, 'tenant_id'>> {
  const sealed: UserSealed = {
    user_name: row.user_name,
    seat_email: row.seat_email,
    external_id: row.external_id,
    resource: row.resource,
  };
  return {
    id: row.id,
    license_id: row.license_id,
    user_name_index: await cipher.blindIndex(ctx, SCIM_INDEX.userName, row.user_name, scimName),
    external_id_index:
      row.external_id === null ? null : await cipher.blindIndex(ctx, SCIM_INDEX.externalId, row.external_id),
    active: Number(row.active),
    record_sealed: await cipher.seal(ctx, { ...SEALED_SCIM_COLUMNS[0], id: row.id }, JSON.stringify(sealed)),
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  };
}

export async function sealScimGroup(
  cipher: Cipher,
  ctx: KeyContext,
  row: Omit<ScimGroupsTable, 'tenant_id'>,
): Promise<Omit<LicenseScimGroupsTable, 'tenant_id'>> {
  const sealed: GroupSealed = {
    display_name: row.display_name,
    external_id: row.external_id,
    members: row.members,
  };
  return {
    id: row.id,
    display_name_index: await cipher.blindIndex(ctx, SCIM_INDEX.displayName, row.display_name, scimName),
    record_sealed: await cipher.seal(ctx, { ...SEALED_SCIM_COLUMNS[1], id: row.id }, JSON.stringify(sealed)),
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  };
}

export class ScimRepository extends TenantRepository {
  private readonly scope: TenantScope;

  constructor(
    scope: TenantScope,
    private readonly cipher: Cipher,
  ) {
    super(scope);
    this.scope = scope;
  }

  private async openUser(row: LicenseScimUsersTable): Promise<ScimUsersTable> {
    const ref = { ...SEALED_SCIM_COLUMNS[0], id: row.id };
    const sealed = JSON.parse(await this.cipher.openText(this.scope, ref, row.record_sealed)) as UserSealed;
    return {
      tenant_id: row.tenant_id,
      id: row.id,
      license_id: row.license_id,
      active: Number(row.active),
      created_at: Number(row.created_at),
      updated_at: Number(row.updated_at),
      ...sealed,
    };
  }

  private async openGroup(row: LicenseScimGroupsTable): Promise<ScimGroupsTable> {
    const ref = { ...SEALED_SCIM_COLUMNS[1], id: row.id };
    const sealed = JSON.parse(await this.cipher.openText(this.scope, ref, row.record_sealed)) as GroupSealed;
    return {
      tenant_id: row.tenant_id,
      id: row.id,
      created_at: Number(row.created_at),
      updated_at: Number(row.updated_at),
      ...sealed,
    };
  }

  async user(id: string): Promise<ScimUsersTable | undefined> {
    const row = await this.selectFrom('license_scim_users')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && this.openUser(row);
  }

  async users(
    licenseId: string,
    filter?: { userName?: string; externalId?: string },
  ): Promise<ScimUsersTable[]> {
    let q = this.selectFrom('license_scim_users').selectAll().where('license_id', '=', licenseId);
    if (filter?.userName !== undefined)
      q = q.where(
        'user_name_index',
        '=',
        await this.cipher.blindIndex(this.scope, SCIM_INDEX.userName, filter.userName, scimName),
      );
    if (filter?.externalId !== undefined)
      q = q.where(
        'external_id_index',
        '=',
        await this.cipher.blindIndex(this.scope, SCIM_INDEX.externalId, filter.externalId),
      );
    const rows = await q.orderBy('created_at').orderBy('id').execute();
    return Promise.all(rows.map((r) => this.openUser(r)));
  }

  async insertUser(row: Omit<ScimUsersTable, 'tenant_id'>): Promise<void> {
    await this.insertInto('license_scim_users', await sealScimUser(this.cipher, this.scope, row));
  }

  async updateUser(row: Omit<ScimUsersTable, 'tenant_id'>): Promise<void> {
    const { id, ...set } = await sealScimUser(this.cipher, this.scope, row);
    await this.updateTable('license_scim_users').set(set).where('id', '=', id).execute();
  }

  async deleteUser(id: string): Promise<void> {
    await this.deleteFrom('license_scim_users').where('id', '=', id).execute();
  }

  async group(id: string): Promise<ScimGroupsTable | undefined> {
    const row = await this.selectFrom('license_scim_groups')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && this.openGroup(row);
  }

  async groups(displayName?: string): Promise<ScimGroupsTable[]> {
    let q = this.selectFrom('license_scim_groups').selectAll();
    if (displayName !== undefined)
      q = q.where(
        'display_name_index',
        '=',
        await this.cipher.blindIndex(this.scope, SCIM_INDEX.displayName, displayName, scimName),
      );
    const rows = await q.orderBy('created_at').orderBy('id').execute();
    return Promise.all(rows.map((r) => this.openGroup(r)));
  }

  async insertGroup(row: Omit<ScimGroupsTable, 'tenant_id'>): Promise<void> {
    await this.insertInto('license_scim_groups', await sealScimGroup(this.cipher, this.scope, row));
  }

  async updateGroup(row: Omit<ScimGroupsTable, 'tenant_id'>): Promise<void> {
    const { id, ...set } = await sealScimGroup(this.cipher, this.scope, row);
    await this.updateTable('license_scim_groups').set(set).where('id', '=', id).execute();
  }

  async deleteGroup(id: string): Promise<boolean> {
    const r = await this.deleteFrom('license_scim_groups').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }
}
