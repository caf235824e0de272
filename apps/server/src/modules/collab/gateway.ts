/**
 * The WebSocket side of the collab module: authenticates an upgrade (ticket, or session cookie with an Origin
 * check), checks the role, speaks the protocol (docs/protocol/collab.md) and enforces the limits.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  CloseCode,
  PROTOCOL_VERSION,
  ProtocolError,
  decodeClient,
  encodeServer,
  type ClientFrame,
} from '@canopy/sdk';
import type { Caller, MapsModule } from '../maps/index.ts';
import { canWrite } from '../maps/index.ts';
import type { Room, RoomMember } from './room.ts';
import type { Rooms } from './rooms.ts';
import { TokenBucket, type CollabLimits } from './limits.ts';
import { NodeAccountSockets, type AccountSockets } from './account-sockets.ts';
import { Outbox } from './outbox.ts';
import type { CollabTickets } from './tickets.ts';

export const COLLAB_PATH = /^\/api\/v1\/collab\/([A-Za-z0-9_-]{1,64})$/;

/** A limit that closed a socket (docs/protocol/collab.md): R30, R31 (updates or presence), R32, R33, R35. */
export type LimitReason = 'too_big' | 'rate_limited' | 'too_many_connections' | 'too_slow' | 'node_full';

/** What the gateway reports to the app's metrics. */
export interface GatewayObserver {
  /** How many sockets are open on this node, whenever that changes (the `canopy_websockets` gauge). */
  sockets(open: number): void;
  /** A socket was closed for a limit: an operator sees clients that are too slow or too many. */
  limited(reason: LimitReason): void;
}

export class CollabGateway {
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<WebSocket>();
  /** When the node-wide limit was last logged (R35). */
  private lastFullWarning = 0;

  constructor(
    private readonly rooms: Rooms,
    private readonly maps: MapsModule,
    private readonly tickets: CollabTickets,
    private readonly allowedOrigins: readonly string[],
    private readonly limits: CollabLimits,
    private readonly logger: Logger,
    private readonly observer?: GatewayObserver,
    /** Sockets per account (R32): on this node alone unless the deployment shares a count (Redis). */
    private readonly accountSockets: AccountSockets = new NodeAccountSockets(),
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: limits.maxMessageBytes,
      perMessageDeflate: false,
    });
  }

  /** Takes over an upgrade for a collab path; returns false for other paths (someone else's upgrade). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const match = COLLAB_PATH.exec(url.pathname);
    if (!match?.[1]) return false;
    const mapId = match[1];
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      // A frame ws refuses (over the size limit: R30; not valid WebSocket framing) is an 'error' on the socket,
      // which ws then closes with the matching code (1009, 1002...). Unheard, the error would end the process.
      ws.on('error', (err: Error & { code?: string }) => {
        if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.observer?.limited('too_big');
        this.logger.info({ err: err.message, mapId }, 'collab: socket closed on bad input');
      });
      if (this.sockets.size >= this.limits.maxConnectionsPerNode) return this.refuseFull(ws);
      this.sockets.add(ws);
      this.observer?.sockets(this.sockets.size);
      ws.once('close', () => {
        this.sockets.delete(ws);
        this.observer?.sockets(this.sockets.size);
      });
      void this.accept(ws, request, mapId, url.searchParams.get('ticket')).catch((err: unknown) => {
        this.logger.error({ err, mapId }, 'collab: connection failed');
        ws.close(CloseCode.serverError, 'server error');
      });
    });
    return true;
  }

  /** This node is full (R35): the client backs off and reconnects, perhaps to another node. Logged once a minute. */
  private refuseFull(ws: WebSocket): void {
    const now = Date.now();
    if (now - this.lastFullWarning > 60_000) {
      this.lastFullWarning = now;
      this.logger.warn(
        { limit: this.limits.maxConnectionsPerNode },
        'collab: this node is at its connection limit; new sockets are closed with 1013',
      );
    }
    this.observer?.limited('node_full');
    ws.close(CloseCode.tryAgain, 'this server is at its connection limit; try again later');
  }

  private async authenticate(
    request: IncomingMessage,
    mapId: string,
    ticket: string | null,
  ): Promise<Caller | number> {
    if (ticket) {
      const holder = await this.tickets.consume(ticket);
      if (!holder || holder.mapId !== mapId) return CloseCode.unauthenticated;
      return { tenantId: holder.tenantId, accountId: holder.accountId };
    }
    const identity = this.maps.identity;
    if (!identity.callerFromCookie || !request.headers.cookie) return CloseCode.unauthenticated;
    // A cookie rides along on any page's WebSocket: only our own pages may use it (R2).
    const origin = request.headers.origin;
    if (!origin || !this.allowedOrigins.includes(origin)) return CloseCode.forbidden;
    return (await identity.callerFromCookie(request.headers)) ?? CloseCode.unauthenticated;
  }

  private async accept(
    ws: WebSocket,
    request: IncomingMessage,
    mapId: string,
    ticket: string | null,
  ): Promise<void> {
    // Frames that arrive while we authenticate are kept in order.
    const early: RawData[] = [];
    let deliver: ((data: RawData, isBinary: boolean) => void) | undefined;
    ws.on('message', (data, isBinary) => {
      if (deliver) deliver(data, isBinary);
      else if (isBinary) early.push(data);
      else ws.close(CloseCode.policy, 'binary frames only');
    });

    const caller = await this.authenticate(request, mapId, ticket);
    if (typeof caller === 'number')
      return ws.close(caller, caller === CloseCode.forbidden ? 'origin not allowed' : 'unauthenticated');
    const access = await this.maps.service.roleOf(caller, mapId);
    if (!access.exists) return ws.close(CloseCode.notFound, 'no such map');
    if (!access.role) return ws.close(CloseCode.forbidden, 'this map is not shared with you');

    const lease = await this.accountSockets.acquire(
      caller.tenantId,
      caller.accountId,
      this.limits.maxConnectionsPerAccount,
    );
    if (!lease) {
      this.observer?.limited('too_many_connections');
      return ws.close(CloseCode.tooManyConnections, 'too many connections');
    }
    if (ws.readyState !== ws.OPEN) return lease.release();
    ws.once('close', () => lease.release());

    const hello = await this.awaitHello(ws, early, (fn) => (deliver = fn));
    if (!hello) return;
    if (hello.version !== PROTOCOL_VERSION) {
      ws.send(
        encodeServer.error({
          code: 'unsupported_version',
          message: `this server speaks version ${PROTOCOL_VERSION}`,
        }),
      );
      return ws.close(CloseCode.unsupportedVersion, 'protocol version not supported');
    }
    const room = await this.rooms.open(caller.tenantId, mapId);
    if (!room) return ws.close(CloseCode.notFound, 'no such map');
    if (ws.readyState !== ws.OPEN) return;
    await this.serve(ws, room, caller, access.role, hello.versionVector, (fn) => (deliver = fn));
  }

  private awaitHello(
    ws: WebSocket,
    early: RawData[],
    setDeliver: (fn: (data: RawData, isBinary: boolean) => void) => void,
  ): Promise<Extract<ClientFrame, { type: 'hello' }> | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        ws.close(CloseCode.policy, 'no hello');
        resolve(undefined);
      }, this.limits.helloTimeoutMs);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve(undefined);
      });
      const first = (data: RawData, isBinary: boolean) => {
        clearTimeout(timer);
        const frame = isBinary ? decodeOrUndefined(data) : undefined;
        if (frame?.type !== 'hello') {
          ws.close(CloseCode.policy, 'expected hello');
          return resolve(undefined);
        }
        // Anything after the hello waits for serve() to take over.
        setDeliver((d, b) => early.push(b ? d : Buffer.alloc(0)));
        resolve(frame);
      };
      const head = early.shift();
      if (head) first(head, true);
      else setDeliver(first);
    });
  }

  private async serve(
    ws: WebSocket,
    room: Room,
    caller: Caller,
    role: RoomMember['role'],
    versionVector: Uint8Array,
    setDeliver: (fn: (data: RawData, isBinary: boolean) => void) => void,
  ): Promise<void> {
    const limits = this.limits;
    const outbox = new Outbox(
      ws,
      (ws as unknown as { _socket?: Duplex })._socket,
      limits.maxBufferedBytes,
      () => this.observer?.limited('too_slow'),
    );
    const member: RoomMember = {
      session: room.presence.freeSession(),
      accountId: caller.accountId,
      role,
      send: (frame) => outbox.send(frame),
      sendAll: (frames) => outbox.sendAll(frames),
      close: (code, reason) => ws.close(code, reason),
    };
    const early: RawData[] = [];
    setDeliver((d, b) => early.push(b ? d : Buffer.alloc(0)));
    room.join(member);
    ws.once('close', () => {
      const wasWriter = canWrite(member.role);
      room.leave(member);
      void this.rooms.left(room, wasWriter);
    });

    const sync = await room.syncFor(versionVector);
    if (!sync) return ws.close(CloseCode.policy, 'invalid version vector');
    if (ws.readyState !== ws.OPEN) return;
    ws.send(encodeServer.welcome(member.role, member.session, sync.versionVector, sync.updates));
    outbox.open();
    const states = room.presence.snapshot();
    if (states) outbox.send(states);

    const bucket = new TokenBucket(limits.updatesPerSecond, limits.updateBurst);
    const presenceBucket = new TokenBucket(limits.presencePerSecond, limits.presenceBurst);
    const handle = (data: RawData, isBinary: boolean) => {
      // Closing (a limit, a bad frame): ws still hands over what came in the same read; none of it counts.
      if (ws.readyState !== ws.OPEN) return;
      const frame = isBinary ? decodeOrUndefined(data) : undefined;
      if (!frame || frame.type === 'hello') return ws.close(CloseCode.policy, 'not a valid message here');
      if (frame.type === 'update') {
        if (!bucket.take()) {
          ws.send(encodeServer.error({ code: 'rate_limited', message: 'too many updates per second' }));
          this.observer?.limited('rate_limited');
          return ws.close(CloseCode.policy, 'rate limited');
        }
        room.write(member, frame.ref, frame.update);
      } else {
        if (frame.update.byteLength > limits.maxPresenceBytes)
          return ws.close(CloseCode.policy, 'presence state too large');
        if (!presenceBucket.take()) {
          ws.send(
            encodeServer.error({ code: 'rate_limited', message: 'too many presence updates per second' }),
          );
          this.observer?.limited('rate_limited');
          return ws.close(CloseCode.policy, 'rate limited');
        }
        const refused = room.presence.write(member, frame.update);
        if (refused === 'malformed') return ws.close(CloseCode.policy, 'not a valid presence update');
        if (refused === 'not-own-key') {
          ws.send(
            encodeServer.error({ code: 'presence_forbidden', message: 'write only your own presence key' }),
          );
          return ws.close(CloseCode.policy, 'presence for another member');
        }
      }
    };
    for (const d of early.splice(0)) handle(d, d instanceof Buffer ? d.byteLength > 0 : true);
    setDeliver(handle);
  }

  /** Shutdown: stop taking sockets (rooms.close() closes the members). */
  async close(): Promise<void> {
    for (const ws of this.sockets) if (ws.readyState === ws.CONNECTING) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

function decodeOrUndefined(data: RawData): ClientFrame | undefined {
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  try {
    return decodeClient(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    if (err instanceof ProtocolError) return undefined;
    throw err;
  }
}
