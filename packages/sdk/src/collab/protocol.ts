/**
 * The co-editing wire format (docs/protocol/collab.md): binary WebSocket frames, the first byte names the
 * message. Shared by the server and this package's client so both sides encode one way. Pure: no I/O.
 */

export const PROTOCOL_VERSION = 2;

export const ClientMessage = { hello: 0x01, update: 0x02, presence: 0x03 } as const;
export const ServerMessage = {
  welcome: 0x81,
  update: 0x82,
  ack: 0x83,
  refused: 0x84,
  presence: 0x85,
  role: 0x86,
  error: 0x87,
} as const;

export type Role = 'viewer' | 'editor' | 'owner';
const ROLES: readonly Role[] = ['viewer', 'editor', 'owner'];

/** WebSocket close codes (API.md), plus the standard ones the server uses. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  /** Too big a frame, too many updates per second, or a frame that is not this protocol. */
  policy: 1008,
  tooBig: 1009,
  serverError: 1011,
  /** The room was reset (restored or compacted under an unsynced client): reconnect and resync. */
  tryAgain: 1013,
  unauthenticated: 4401,
  forbidden: 4403,
  notFound: 4404,
  unsupportedVersion: 4409,
  /** The client fell too far behind (its send buffer grew past the bound): reconnect and resync. */
  tooSlow: 4408,
  /** Too many connections for this account. */
  tooManyConnections: 4429,
} as const;

export interface PresencePeer {
  /** This connection's number in the room (one account may be connected twice). */
  session: number;
  accountId: string;
  /** What the client last said about itself (selection, cursor, name...). */
  state: unknown;
}

/**
 * Presence travels as Loro ephemeral-store updates (R17). A member may write only the key named after its
 * session number (R18); the room's store holds, under that key, the server's stamp and the member's state.
 */
export const presenceKey = (session: number): string => String(session);

/** The value under a member's key in the room's ephemeral store: written by the server, never by a client. */
export interface PresenceEntry {
  accountId: string;
  state: unknown;
}

/** Reads a room-store entry (as decoded from the server's update); undefined when it is not one. */
export function presencePeerFrom(key: string, value: unknown): PresencePeer | undefined {
  const session = Number(key);
  if (!Number.isSafeInteger(session) || session < 0 || presenceKey(session) !== key) return undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  const { accountId, state } = value as Partial<PresenceEntry>;
  if (typeof accountId !== 'string') return undefined;
  return { session, accountId, state: state ?? null };
}

export interface Problem {
  code: string;
  message: string;
}

export type ServerFrame =
  | {
      type: 'welcome';
      version: number;
      role: Role;
      session: number;
      versionVector: Uint8Array;
      updates: Uint8Array;
    }
  | { type: 'update'; update: Uint8Array }
  | { type: 'ack'; ref: number }
  | { type: 'refused'; ref: number; problem: Problem }
  /** A Loro ephemeral-store update from the room's store (R17). */
  | { type: 'presence'; update: Uint8Array }
  | { type: 'role'; role: Role }
  | { type: 'error'; problem: Problem };

export type ClientFrame =
  | { type: 'hello'; version: number; versionVector: Uint8Array }
  | { type: 'update'; ref: number; update: Uint8Array }
  /** A Loro ephemeral-store update touching only the sender's key (R18). */
  | { type: 'presence'; update: Uint8Array };

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

function frame(type: number, ...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(1 + parts.reduce((n, p) => n + p.byteLength, 0));
  out[0] = type;
  let at = 1;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0);
  return b;
}

const readU32 = (b: Uint8Array, at: number) => {
  if (b.byteLength < at + 4) throw new ProtocolError('truncated frame');
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at);
};

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

function json(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(fromUtf8.decode(bytes));
  } catch {
    throw new ProtocolError('a JSON part is not valid UTF-8 JSON');
  }
}

function problemOf(value: unknown): Problem {
  const p = value as Partial<Problem> | null;
  return {
    code: typeof p?.code === 'string' ? p.code : 'error',
    message: typeof p?.message === 'string' ? p.message : '',
  };
}

export const encodeClient = {
  hello: (versionVector: Uint8Array, version = PROTOCOL_VERSION) =>
    frame(ClientMessage.hello, new Uint8Array([version]), versionVector),
  update: (ref: number, update: Uint8Array) => frame(ClientMessage.update, u32(ref), update),
  presence: (update: Uint8Array) => frame(ClientMessage.presence, update),
};

export const encodeServer = {
  welcome: (role: Role, session: number, versionVector: Uint8Array, updates: Uint8Array) =>
    frame(
      ServerMessage.welcome,
      new Uint8Array([PROTOCOL_VERSION, ROLES.indexOf(role)]),
      u32(session),
      u32(versionVector.byteLength),
      versionVector,
      updates,
    ),
  update: (update: Uint8Array) => frame(ServerMessage.update, update),
  ack: (ref: number) => frame(ServerMessage.ack, u32(ref)),
  refused: (ref: number, problem: Problem) =>
    frame(ServerMessage.refused, u32(ref), utf8.encode(JSON.stringify(problem))),
  presence: (update: Uint8Array) => frame(ServerMessage.presence, update),
  role: (role: Role) => frame(ServerMessage.role, new Uint8Array([ROLES.indexOf(role)])),
  error: (problem: Problem) => frame(ServerMessage.error, utf8.encode(JSON.stringify(problem))),
};

function roleAt(b: Uint8Array, at: number): Role {
  const role = ROLES[b[at] ?? 255];
  if (!role) throw new ProtocolError('unknown role');
  return role;
}

export function decodeClient(b: Uint8Array): ClientFrame {
  if (b.byteLength === 0) throw new ProtocolError('empty frame');
  switch (b[0]) {
    case ClientMessage.hello:
      if (b.byteLength < 2) throw new ProtocolError('truncated hello');
      return { type: 'hello', version: b[1] ?? 0, versionVector: b.subarray(2) };
    case ClientMessage.update:
      return { type: 'update', ref: readU32(b, 1), update: b.subarray(5) };
    case ClientMessage.presence:
      return { type: 'presence', update: b.subarray(1) };
    default:
      throw new ProtocolError(`unknown client message 0x${(b[0] ?? 0).toString(16)}`);
  }
}

export function decodeServer(b: Uint8Array): ServerFrame {
  if (b.byteLength === 0) throw new ProtocolError('empty frame');
  switch (b[0]) {
    case ServerMessage.welcome: {
      const session = readU32(b, 3);
      const vvLength = readU32(b, 7);
      if (b.byteLength < 11 + vvLength) throw new ProtocolError('truncated welcome');
      return {
        type: 'welcome',
        version: b[1] ?? 0,
        role: roleAt(b, 2),
        session,
        versionVector: b.subarray(11, 11 + vvLength),
        updates: b.subarray(11 + vvLength),
      };
    }
    case ServerMessage.update:
      return { type: 'update', update: b.subarray(1) };
    case ServerMessage.ack:
      return { type: 'ack', ref: readU32(b, 1) };
    case ServerMessage.refused:
      return { type: 'refused', ref: readU32(b, 1), problem: problemOf(json(b.subarray(5))) };
    case ServerMessage.presence:
      return { type: 'presence', update: b.subarray(1) };
    case ServerMessage.role:
      return { type: 'role', role: roleAt(b, 1) };
    case ServerMessage.error:
      return { type: 'error', problem: problemOf(json(b.subarray(1))) };
    default:
      throw new ProtocolError(`unknown server message 0x${(b[0] ?? 0).toString(16)}`);
  }
}
