/**
 * The collab module: co-editing rooms over WebSocket at `/api/v1/collab/{mapId}`, the collab ticket route,
 * compaction of the update log, fan-out between nodes, and the write-back hook. Protocol:
 * docs/protocol/collab.md. It uses the maps module (content store, roles) through its index.ts.
 */
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { loroHeapSize } from '@canopy/model';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppDeps } from '../../app.ts';
import { registerLoroHeapGauge, registerRoomGauge, type Metrics } from '../../platform/http/metrics.ts';
import { unauthenticated } from '../../platform/errors.ts';
import { mapsModule } from '../maps/index.ts';
import { PubSubBus, type CollabBus } from './bus.ts';
import { CollabGateway } from './gateway.ts';
import { NodeAccountSockets, RedisAccountSockets, type AccountSockets } from './account-sockets.ts';
import { DEFAULT_LIMITS, type CollabLimits } from './limits.ts';
import { COMPACT_JOB, Rooms } from './rooms.ts';
import { CollabTickets } from './tickets.ts';
import type { WriteBackHook } from './write-back.ts';

export { InProcessBus, PubSubBus, type Bell, type CollabBus } from './bus.ts';
export {
  NodeAccountSockets,
  RedisAccountSockets,
  type AccountSockets,
  type SocketLease,
} from './account-sockets.ts';
export { DEFAULT_LIMITS, type CollabLimits } from './limits.ts';
export { COMPACT_JOB } from './rooms.ts';
export type { WriteBackEvent, WriteBackHook } from './write-back.ts';

export interface CollabModuleOptions {
  /** Default: platform/pubsub (Redis when CANOPY_REDIS_URL is set, else in-process). */
  bus?: CollabBus;
  limits?: Partial<CollabLimits>;
  writeBack?: WriteBackHook;
  /** Log entries after which a map's log is folded into its snapshot (default 500). */
  compactAfter?: number;
  /** How often rooms check SQL for updates whose ring was lost (default 2 s with Redis, 30 s without). */
  checkIntervalMs?: number;
  /** How often this node says on the bus that it is alive (default 10 s), and when another is dead (30 s). */
  aliveIntervalMs?: number;
  nodeTimeoutMs?: number;
  /** Sockets per account (R32). Default: counted across the nodes in Redis when configured, else on this node. */
  accountSockets?: AccountSockets;
}

export interface CollabModule {
  readonly rooms: Rooms;
  readonly bus: CollabBus;
  /** Calls the write-back hook with a consistent snapshot of a live room (storage: "save session"). */
  saveSession(tenantId: string, mapId: string): Promise<boolean>;
}

const instances = new WeakMap<AppDeps, CollabModule>();

export function collabModule(deps: AppDeps): CollabModule | undefined {
  return instances.get(deps);
}

const TicketResponse = Type.Object({
  ticket: Type.String(),
  expiresAt: Type.String({ format: 'date-time' }),
  url: Type.String(),
});

export async function collabPlugin(scope: FastifyInstance, deps: AppDeps): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const { platform } = deps;
  const options = deps.collab ?? {};
  const maps = mapsModule(deps);
  // The platform's pub/sub (Redis when configured, else in-process); the bus only subscribes to it.
  const bus = options.bus ?? new PubSubBus(platform.pubsub, false);
  if (bus instanceof PubSubBus) await bus.ready();
  const ownsBus = options.bus === undefined;
  const limits = {
    ...DEFAULT_LIMITS,
    maxConnectionsPerNode: platform.config.collabMaxConnections,
    ...options.limits,
  };
  // The app's metrics (app.ts decorates the instance before it registers the modules).
  const metrics = (scope as { metrics?: Metrics }).metrics;
  const rooms = new Rooms(
    maps.content,
    bus,
    platform.jobs,
    platform.logger,
    {
      compactAfter: options.compactAfter ?? 500,
      checkIntervalMs: options.checkIntervalMs ?? (platform.redis ? 2_000 : 30_000),
      presenceTimeoutMs: limits.presenceTimeoutMs,
      ...(options.aliveIntervalMs ? { aliveIntervalMs: options.aliveIntervalMs } : {}),
      ...(options.nodeTimeoutMs ? { nodeTimeoutMs: options.nodeTimeoutMs } : {}),
      ...(metrics
        ? {
            observer: {
              updates: (outcome, count) => metrics.collabUpdates.inc({ outcome }, count),
              committed: (seconds) => metrics.collabCommitSeconds.observe(seconds),
            },
            nodesLost: (count: number) => metrics.collabNodesLost.inc(count),
            mirrorThreadEnded: (reason) => metrics.collabMirrorThreadEnds.inc({ reason }),
          }
        : {}),
    },
    options.writeBack,
  );
  if (metrics) {
    registerRoomGauge(metrics, () => rooms.count);
    registerLoroHeapGauge(metrics, loroHeapSize, () => rooms.mirrorLoroHeapSize);
  }
  const tickets = new CollabTickets(platform.database, platform.clock);
  const origins = [new URL(platform.config.publicUrl).origin];
  const accountSockets =
    options.accountSockets ??
    (platform.redis ? new RedisAccountSockets(platform.redis, platform.logger) : new NodeAccountSockets());
  const gateway = new CollabGateway(
    rooms,
    maps,
    tickets,
    origins,
    limits,
    platform.logger,
    {
      sockets: (open) => metrics?.websockets.set({ kind: 'collab' }, open),
      limited: (reason) => metrics?.collabLimitCloses.inc({ reason }),
    },
    accountSockets,
  );

  platform.jobs.define<{ tenantId: string; mapId: string }>(COMPACT_JOB, async ({ tenantId, mapId }) => {
    // A room open here holds the map as of its seq: folding that in spares reading and replaying the log (a
    // replay blocks the event loop for a long time: ~0.5 s for 500 keystrokes of 50 peers). A busy room hands
    // over the state of its next commit instead of making the compaction wait until it falls idle.
    const room = await rooms.existing(tenantId, mapId);
    const state = await room?.fold.durableSnapshot();
    const result = state
      ? await maps.content.compactTo(tenantId, mapId, state)
      : await maps.content.compact(tenantId, mapId);
    if (result?.folded) platform.logger.info({ mapId, folded: result.folded }, 'collab: log compacted');
  });

  maps.service.listen({
    contentChanged: (tenantId, mapId) => rooms.poke(tenantId, mapId),
    accessChanged: (tenantId, mapId) => {
      void (async () => {
        const room = await rooms.existing(tenantId, mapId);
        if (!room) return;
        const accounts = [...new Set([...room.members].map((m) => m.accountId))];
        room.applyRoles(await maps.service.rolesOf(tenantId, mapId, accounts));
      })().catch((err: unknown) => platform.logger.warn({ err, mapId }, 'collab: could not refresh roles'));
    },
    deleted: (tenantId, mapId) => {
      void rooms.existing(tenantId, mapId).then((room) => room?.shutDown(4404, 'the map was deleted'));
    },
  });

  instances.set(deps, {
    rooms,
    bus,
    saveSession: async (tenantId, mapId) => {
      const room = await rooms.existing(tenantId, mapId);
      if (!room) return false;
      await rooms.save(room, 'saved');
      return true;
    },
  });

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    gateway.handleUpgrade(request, socket, head);
  };
  app.server.on('upgrade', onUpgrade);
  app.addHook('preClose', async () => {
    app.server.off('upgrade', onUpgrade);
    await rooms.close();
    await gateway.close();
    if (!options.accountSockets) await accountSockets.close();
    if (ownsBus) await bus.close();
  });

  app.post(
    '/maps/:id/collab-ticket',
    {
      config: maps.access,
      schema: {
        tags: ['collab'],
        summary: 'A short-lived, single-use ticket to open the co-editing WebSocket of a map',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 201: TicketResponse },
      },
    },
    async (request, reply) => {
      const caller = await maps.identity.caller(request);
      if (!caller) throw unauthenticated();
      const mapId = request.params.id;
      await maps.service.requireRole(caller, mapId, ['owner', 'editor', 'viewer']);
      const issued = await tickets.issue({ ...caller, mapId });
      return reply.status(201).send({
        ticket: issued.ticket,
        expiresAt: new Date(issued.expiresAt).toISOString(),
        url: `/api/v1/collab/${encodeURIComponent(mapId)}?ticket=${issued.ticket}`,
      });
    },
  );
}
