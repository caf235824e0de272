// The response shapes this app reads, from API.md. Written by hand until packages/sdk publishes its typed
// client; then these types come from there (and from the server's schemas) and this file goes.

export interface Account {
  readonly id: string;
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly emailVerified: boolean;
}

export interface Session {
  readonly token: string;
  readonly expiresAt: string;
  readonly account: Account;
  /** If the server returns the CSRF token in the body rather than a header. */
  readonly csrfToken?: string;
}

export interface Me extends Account {
  readonly mfaEnabled?: boolean;
  readonly orgs?: readonly { id: string; name: string; personal?: boolean; role: string }[];
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

export interface MapSummary {
  readonly id: string;
  readonly title: string;
  readonly updatedAt?: string;
  readonly role?: 'owner' | 'editor' | 'viewer';
}

export interface TotpEnrollment {
  readonly secret: string;
  readonly otpauthUrl: string;
}
