/** Real co-editing clients (the SDK's, over `ws`) against a listening test app, for the collab tests. */
import WebSocket from 'ws';
import { MindMap, ModelError } from '@canopy/model';
import { CollabClient, type WebSocketConstructor } from '@canopy/sdk';
import type { FastifyInstance } from 'fastify';
import { testAuthorization } from '../maps/index.ts';

export const NodeWebSocket = WebSocket as unknown as WebSocketConstructor;

export interface Who {
  accountId: string;
  tenantId: string;
}

export async function ticketUrl(
  app: FastifyInstance,
  baseUrl: string,
  who: Who,
  mapId: string,
): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: `/api/v1/maps/${mapId}/collab-ticket`,
    headers: { authorization: testAuthorization(who.accountId, who.tenantId) },
  });
  if (res.statusCode !== 201) throw new Error(`ticket: ${res.statusCode} ${res.body}`);
  return baseUrl.replace(/^http/, 'ws') + res.json<{ url: string }>().url;
}

export function startClient(
  app: FastifyInstance,
  baseUrl: string,
  who: Who,
  mapId: string,
  options: { map?: MindMap; url?: () => Promise<string> } = {},
): CollabClient {
  const client = new CollabClient({
    ...(options.map ? { map: options.map } : {}),
    WebSocket: NodeWebSocket,
    url: options.url ?? (() => ticketUrl(app, baseUrl, who, mapId)),
    backoff: { initialMs: 20, maxMs: 500 },
  });
  client.connect();
  return client;
}

/** Polls until `check` passes (no time limit of its own: the test runner's timeout is the bound). */
export async function eventually(check: () => boolean | Promise<boolean>, everyMs = 20): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, everyMs));
}

export function onlineAll(clients: CollabClient[]) {
  return eventually(() => clients.every((c) => c.status === 'online'));
}

/** One random edit: add, rename, move (possibly refused by the model: a cycle), reorder or delete. */
export function randomEdit(map: MindMap, rnd: () => number, label: string): void {
  const doc = map.toJSON();
  const ids: string[] = [];
  const walk = (t: { id: string; children?: { id: string }[] }) => {
    ids.push(t.id);
    for (const c of t.children ?? []) walk(c);
  };
  walk(doc.root);
  const pick = () => ids[Math.floor(rnd() * ids.length)] ?? doc.root.id;
  const root = doc.root.id;
  const r = rnd();
  try {
    if (r < 0.45 || ids.length < 4) map.addTopic(pick(), undefined, { text: label });
    else if (r < 0.65) {
      const id = pick();
      if (id !== root) map.setText(id, label);
    } else if (r < 0.85) {
      const id = pick();
      if (id !== root) map.moveTopic(id, pick());
    } else if (r < 0.93) {
      const id = pick();
      if (id !== root) map.reorder(id, 0);
    } else {
      const id = pick();
      if (id !== root) map.deleteTopic(id);
    }
  } catch (err) {
    if (!(err instanceof ModelError)) throw err;
  }
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
