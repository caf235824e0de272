import type { ApiClient } from './client.ts';

/** `POST /maps/{id}/collab-ticket`: a single-use ticket (60 s) to open the map's co-editing socket. */
export interface CollabTicket {
  readonly ticket: string;
  readonly expiresAt: string;
  /** Path of the socket with the ticket, e.g. `/api/v1/collab/<id>?ticket=...`. */
  readonly url: string;
}

export function collabTicket(api: ApiClient, mapId: string): Promise<CollabTicket> {
  return api.request<CollabTicket>('POST', `/maps/${encodeURIComponent(mapId)}/collab-ticket`);
}
