/**
 * The identity module's settings: the configurable ones come from config.ts (CANOPY_PASSWORD_HASH,
 * CANOPY_SESSION_IDLE_MINUTES, CANOPY_SESSION_ABSOLUTE_HOURS, CANOPY_SIGNUP_REVEALS_TAKEN_EMAIL: see README,
 * "Enumeration"); the rest are fixed here.
 */
import type { Config } from '../../config.ts';
import type { PasswordHashKind } from './passwords.ts';

export interface RateRule {
  limit: number;
  windowMs: number;
}

export interface IdentitySettings {
  passwordHash: PasswordHashKind;
  sessionIdleMs: number;
  sessionAbsoluteMs: number;
  /** How long after a password (or SRP) proof the sensitive routes accept the session. */
  reauthWindowMs: number;
  verifyTokenTtlMs: number;
  resetTokenTtlMs: number;
  invitationTtlMs: number;
  srpChallengeTtlMs: number;
  operatorSetupTtlMs: number;
  /** API.md's `409 email_taken` on sign-up; off by default because it tells anyone which emails have accounts. */
  signUpRevealsTakenEmail: boolean;
  auditIpRetentionMs: number;
  /** How long an IP the account logged in from is exempt from the account-wide login limit. */
  knownIpTtlMs: number;
  rateLimits: {
    signUpPerIp: RateRule;
    signUpPerEmail: RateRule;
    loginPerIp: RateRule;
    loginPerAccountAndIp: RateRule;
    /** Across all IPs, except those the account logged in from within `knownIpTtlMs`. */
    loginPerAccount: RateRule;
    forgotPerIp: RateRule;
    forgotPerEmail: RateRule;
    tokenPerIp: RateRule;
  };
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export function readIdentitySettings(config: Pick<Config, 'identity'>): IdentitySettings {
  const c = config.identity;
  const kind: PasswordHashKind = c.passwordHash;
  return {
    passwordHash: kind,
    sessionIdleMs: c.sessionIdleMinutes * MINUTE,
    sessionAbsoluteMs: c.sessionAbsoluteHours * HOUR,
    reauthWindowMs: 5 * MINUTE,
    verifyTokenTtlMs: 2 * DAY,
    resetTokenTtlMs: 30 * MINUTE,
    invitationTtlMs: 7 * DAY,
    srpChallengeTtlMs: 2 * MINUTE,
    operatorSetupTtlMs: 2 * DAY,
    signUpRevealsTakenEmail: c.signUpRevealsTakenEmail,
    auditIpRetentionMs: 30 * DAY,
    knownIpTtlMs: 30 * DAY,
    rateLimits: {
      signUpPerIp: { limit: 20, windowMs: HOUR },
      signUpPerEmail: { limit: 5, windowMs: HOUR },
      loginPerIp: { limit: 100, windowMs: 15 * MINUTE },
      loginPerAccountAndIp: { limit: 10, windowMs: 15 * MINUTE },
      loginPerAccount: { limit: 50, windowMs: HOUR },
      forgotPerIp: { limit: 20, windowMs: HOUR },
      forgotPerEmail: { limit: 5, windowMs: HOUR },
      tokenPerIp: { limit: 30, windowMs: HOUR },
    },
  };
}
