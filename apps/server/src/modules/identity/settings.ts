/**
 * The identity module's settings. Read from the environment until config.ts carries them (see README.md):
 * CANOPY_PASSWORD_HASH (argon2id | bcrypt), CANOPY_SESSION_IDLE_MINUTES (30), CANOPY_SESSION_ABSOLUTE_HOURS
 * (12, ASVS L2), CANOPY_SIGNUP_REVEALS_TAKEN_EMAIL (false: see README, "Enumeration").
 */
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

function positive(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`${name}: must be a positive number (got ${JSON.stringify(raw)})`);
  return n;
}

export function readIdentitySettings(
  env: Record<string, string | undefined> = process.env,
): IdentitySettings {
  const kind = env.CANOPY_PASSWORD_HASH ?? 'argon2id';
  if (kind !== 'argon2id' && kind !== 'bcrypt') {
    throw new Error(`CANOPY_PASSWORD_HASH: must be argon2id or bcrypt (got ${JSON.stringify(kind)})`);
  }
  return {
    passwordHash: kind,
    sessionIdleMs: positive(env, 'CANOPY_SESSION_IDLE_MINUTES', 30) * MINUTE,
    sessionAbsoluteMs: positive(env, 'CANOPY_SESSION_ABSOLUTE_HOURS', 12) * HOUR,
    reauthWindowMs: 5 * MINUTE,
    verifyTokenTtlMs: 2 * DAY,
    resetTokenTtlMs: 30 * MINUTE,
    invitationTtlMs: 7 * DAY,
    srpChallengeTtlMs: 2 * MINUTE,
    operatorSetupTtlMs: 2 * DAY,
    signUpRevealsTakenEmail: env.CANOPY_SIGNUP_REVEALS_TAKEN_EMAIL === 'true',
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
