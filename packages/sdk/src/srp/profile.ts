import { SRP_GROUP_1024, SRP_GROUP_3072, type SrpGroup } from './groups.ts';

export type SrpHash = 'SHA-1' | 'SHA-256';

/**
 * Everything both sides must agree on. A verifier made under one profile only ever verifies under the same one,
 * so changing any field (even the iteration count) means re-registering every password.
 */
export interface SrpProfile {
  readonly group: SrpGroup;
  readonly hash: SrpHash;
  /**
   * How P enters x = H(s | H(I | ":" | P)). `null`: the raw password, as in RFC 5054. Otherwise
   * P' = hex(PBKDF2-HMAC-SHA256(password, s, iterations, 32 bytes)), as API.md specifies.
   */
  readonly passwordKdf: { readonly iterations: number } | null;
}

/** Canopy's production profile (API.md, "Accounts and sessions"). */
export const CANOPY_SRP_PROFILE: SrpProfile = {
  group: SRP_GROUP_3072,
  hash: 'SHA-256',
  passwordKdf: { iterations: 600_000 },
};

/** RFC 5054 Appendix B's parameters: 1024-bit group, SHA-1, raw password. For test vectors only. */
export const RFC5054_TEST_PROFILE: SrpProfile = {
  group: SRP_GROUP_1024,
  hash: 'SHA-1',
  passwordKdf: null,
};
