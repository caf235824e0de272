// The response shapes this app reads, from API.md and the server's schemas. Written by hand until packages/sdk
// publishes its typed client; then these types come from there and this file goes.

export interface Account {
  readonly id: string;
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly emailVerified: boolean;
}

export interface SignUpInput {
  readonly email: string;
  readonly password: string;
  readonly firstName: string;
  readonly lastName: string;
}

export interface Session {
  readonly token: string;
  readonly expiresAt: string;
  readonly account: Account;
  /** If the server returns the CSRF token in the body rather than a header. */
  readonly csrfToken?: string;
}

export interface Org {
  readonly id: string;
  readonly name: string;
  readonly personal?: boolean;
  readonly role: 'admin' | 'member' | string;
}

/** What an org's maps hold in images and attachments (`GET /orgs/{orgId}/storage`, org admins only). */
export interface OrgStorage {
  readonly usedBytes: number;
  /** Null: no limit. */
  readonly quotaBytes: number | null;
  /** The maps counting the most, most first (absent from servers before it). */
  readonly maps?: readonly StoredMap[];
}

/** A map's part of the org's storage; `title` null when the map is not shared with the caller. */
export interface StoredMap {
  readonly id: string;
  readonly title: string | null;
  readonly owner: { readonly id: string; readonly email: string | null };
  readonly bytes: number;
  readonly blobs: number;
}

export interface OrgMember {
  readonly accountId: string;
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly role: 'admin' | 'member';
}

export interface Me extends Account {
  readonly mfaEnabled?: boolean;
  readonly operator?: boolean;
  readonly orgs?: readonly Org[];
}

/** One of the caller's live sessions (`GET /sessions`). */
export interface SessionInfo {
  readonly id: string;
  readonly method: string;
  readonly createdAt: string;
  readonly lastSeenAt: string;
  readonly expiresAt: string;
  readonly current: boolean;
}

export type MapRole = 'owner' | 'editor' | 'viewer';
export type ShareRole = 'editor' | 'viewer';

export interface MapSummary {
  readonly id: string;
  readonly title: string;
  readonly createdAt?: string;
  readonly updatedAt?: string;
  readonly role?: MapRole;
}

/** `GET /maps/{id}/shares` (the server names the account; email and name when it sends them). */
export interface MapShare {
  readonly accountId: string;
  readonly role: ShareRole;
  readonly createdAt?: string;
  readonly email?: string;
  readonly name?: string;
}

export interface ImportResult {
  readonly id: string;
  readonly title: string;
  readonly warnings: readonly string[];
}

/** The formats of `GET /maps/{id}/export?format=` (API.md), with what a person calls them. */
export const EXPORT_FORMATS = [
  { format: 'mmap', label: 'MindManager (.mmap)' },
  { format: 'xmind', label: 'XMind (.xmind)' },
  { format: 'mm', label: 'FreeMind (.mm)' },
  { format: 'opml', label: 'OPML outline (.opml)' },
  { format: 'md', label: 'Markdown (.md)' },
  { format: 'json', label: 'Canopy JSON (.json)' },
  { format: 'html', label: 'Interactive web page (.html)' },
] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number]['format'];

/** The file types `POST /maps/import` reads (API.md). */
export const IMPORT_EXTENSIONS = ['.mmap', '.xmind', '.mm', '.opml', '.md', '.json'] as const;

export interface TotpEnrollment {
  readonly secret: string;
  readonly otpauthUrl: string;
}

export interface Invitation {
  readonly id: string;
  readonly email: string;
  readonly role: 'admin' | 'member';
  readonly expiresAt: string;
}
