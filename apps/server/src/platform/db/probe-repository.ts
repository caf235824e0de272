/** The repository over `probe_items`: the smallest tenant-owned table, used to prove the tenancy walls. */
import { randomUUID } from 'node:crypto';
import { TenantRepository } from './tenant.ts';

export class ProbeRepository extends TenantRepository {
  async add(label: string, now: number): Promise<string> {
    const id = randomUUID();
    await this.insertInto('probe_items', { id, label, created_at: now });
    return id;
  }

  async list(): Promise<{ id: string; label: string }[]> {
    return this.selectFrom('probe_items').select(['id', 'label']).orderBy('label').execute();
  }

  async rename(id: string, label: string): Promise<boolean> {
    const r = await this.updateTable('probe_items').set({ label }).where('id', '=', id).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async remove(id: string): Promise<boolean> {
    const r = await this.deleteFrom('probe_items').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }
}
