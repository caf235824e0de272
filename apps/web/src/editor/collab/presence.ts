import type { PresencePeer } from '@canopy/sdk';

/**
 * What this editor says about itself in the room (CollabClient.setPresence): who it is and what it has selected.
 * Versioned, so that a later editor can add fields (a text cursor, the viewport) and older ones ignore them.
 */
export interface EditorPresence {
  readonly v: 1;
  readonly name: string;
  /** The selected topic's id, or null. */
  readonly selection: string | null;
}

/** Someone else in the room, as the editor shows them. */
export interface Collaborator {
  /** Their connection in the room: one person with two tabs is two collaborators. */
  readonly session: number;
  readonly accountId: string;
  readonly name: string;
  readonly color: string;
  readonly selection: string | null;
}

const MAX_NAME = 60;

/**
 * Reads a peer's presence. The state is whatever that client sent, so it is checked field by field; the account
 * id is stamped by the server, so the colour (derived from it) cannot be borrowed by someone else.
 */
export function collaboratorFrom(peer: PresencePeer): Collaborator | undefined {
  const state = peer.state;
  if (typeof state !== 'object' || state === null) return undefined;
  const { name, selection } = state as Record<string, unknown>;
  return {
    session: peer.session,
    accountId: peer.accountId,
    name: typeof name === 'string' && name.trim() !== '' ? name.trim().slice(0, MAX_NAME) : 'Someone',
    color: colorFor(peer.accountId),
    selection: typeof selection === 'string' && selection.length <= 64 ? selection : null,
  };
}

export function presenceState(name: string, selection: string | null): EditorPresence {
  return { v: 1, name: name.slice(0, MAX_NAME), selection };
}

/** Distinct, readable on the map's light background, and far from the blue of one's own selection. */
const PALETTE = ['#c2410c', '#15803d', '#a21caf', '#b91c1c', '#0f766e', '#7c3aed', '#a16207', '#be185d'];

/** A stable colour per account, before collisions are resolved (distinctColors). */
export function colorFor(accountId: string): string {
  return PALETTE[paletteIndex(accountId)]!;
}

function paletteIndex(accountId: string): number {
  let hash = 2166136261;
  for (let i = 0; i < accountId.length; i++) {
    hash ^= accountId.charCodeAt(i);
    hash = Math.imul(hash, 16777619);
  }
  return (hash >>> 0) % PALETTE.length;
}

/**
 * Gives everyone in the room a different colour (while the palette lasts). Each person starts from their
 * account's colour and, in order of joining (session numbers, which the server assigns), takes the next free
 * one. Every member computes this over the same room, this tab included, so a person has the same colour on
 * everyone's screen; this tab's own colour is reserved, not shown (its selection is the editor's blue).
 */
export function distinctColors(
  others: readonly Collaborator[],
  self: { session: number; accountId: string } | undefined,
): Collaborator[] {
  const members = [...others.map((c) => ({ session: c.session, accountId: c.accountId }))];
  if (self) members.push(self);
  members.sort((a, b) => a.session - b.session);
  const taken = new Set<number>();
  const bySession = new Map<number, string>();
  for (const member of members) {
    let index = paletteIndex(member.accountId);
    for (let tries = 0; tries < PALETTE.length && taken.has(index); tries++)
      index = (index + 1) % PALETTE.length;
    taken.add(index);
    bySession.set(member.session, PALETTE[index]!);
  }
  return others.map((c) => ({ ...c, color: bySession.get(c.session) ?? c.color }));
}

/** Calls `send` at most once per `intervalMs`, always with the latest value (the last one is never dropped). */
export function throttleLatest<T>(intervalMs: number, send: (value: T) => void): (value: T) => void {
  let last = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending: { value: T } | undefined;
  const fire = () => {
    timer = undefined;
    if (!pending) return;
    const { value } = pending;
    pending = undefined;
    last = Date.now();
    send(value);
  };
  return (value: T) => {
    pending = { value };
    if (timer) return;
    const wait = last + intervalMs - Date.now();
    if (wait <= 0) fire();
    else timer = setTimeout(fire, wait);
  };
}
