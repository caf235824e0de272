/**
 * Collab tickets: short-lived, single-use tokens that authenticate one WebSocket (a browser cannot set headers on
 * one). Stored hashed; consuming deletes the row, so a ticket works once across all nodes.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/connect.ts';

export interface CollabTicketsTable {
  ticket_hash: string;
  tenant_id: string;
  account_id: string;
  map_id: string;
  expires_at: number;
}

declare module '../../platform/db/schema.ts' {
  interface Tables {
    collab_tickets: CollabTicketsTable;
  }
}

export interface TicketHolder {
  tenantId: string;
  accountId: string;
  mapId: string;
}

const hash = (ticket: string) => createHash('sha256').update(ticket).digest('hex');

export class CollabTickets {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
    private readonly ttlMs = 60_000,
  ) {}

  async issue(holder: TicketHolder): Promise<{ ticket: string; expiresAt: number }> {
    const ticket = randomBytes(32).toString('base64url');
    const now = this.clock.now().getTime();
    const expiresAt = now + this.ttlMs;
    const db = this.database.db;
    await db.deleteFrom('collab_tickets').where('expires_at', '<', now).execute();
    await db
      .insertInto('collab_tickets')
      .values({
        ticket_hash: hash(ticket),
        tenant_id: holder.tenantId,
        account_id: holder.accountId,
        map_id: holder.mapId,
        expires_at: expiresAt,
      })
      .execute();
    return { ticket, expiresAt };
  }

  /** The holder if the ticket is valid and unused; it is used up either way. */
  async consume(ticket: string): Promise<TicketHolder | undefined> {
    if (ticket.length < 16 || ticket.length > 128) return undefined;
    const key = hash(ticket);
    const db = this.database.db;
    const row = await db
      .selectFrom('collab_tickets')
      .selectAll()
      .where('ticket_hash', '=', key)
      .executeTakeFirst();
    if (!row) return undefined;
    const deleted = await db.deleteFrom('collab_tickets').where('ticket_hash', '=', key).executeTakeFirst();
    if (Number(deleted.numDeletedRows) !== 1) return undefined; // another node used it first
    if (Number(row.expires_at) < this.clock.now().getTime()) return undefined;
    return { tenantId: row.tenant_id, accountId: row.account_id, mapId: row.map_id };
  }
}
