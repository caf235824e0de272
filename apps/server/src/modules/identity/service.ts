/** Builds the identity module's commands from the platform's ports: the one place they are wired together. */
import type { FastifyRequest } from 'fastify';
import type { Platform } from '../../platform/index.ts';
import type { CryptoPort } from '../../platform/crypto/index.ts';
import { unauthenticated } from '../../platform/errors.ts';
import type { AuthContext, OrgRole } from '../../platform/http/auth.ts';
import { AccountData } from './account-data.ts';
import { AccountStore, SEALED_ACCOUNT_COLUMNS, type AccountRow } from './account-store.ts';
import { AUDIT_IP_PURGE_JOB, AuditLog } from './audit.ts';
import { OperatorBootstrap } from './bootstrap.ts';
import { nowMs, type Caller, type IdentityDeps } from './deps.ts';
import { reauthenticationRequired } from './errors.ts';
import { Login } from './login.ts';
import { createIdentityMailer } from './mail.ts';
import { Mfa } from './mfa.ts';
import { OrgService } from './orgs.ts';
import { PasswordReset } from './password-reset.ts';
import { MemoryRateLimiter, RedisRateLimiter } from './rate-limits.ts';
import { SessionStore } from './sessions.ts';
import { DAY, readIdentitySettings, type IdentitySettings } from './settings.ts';
import { AccountCreator, SignUp } from './sign-up.ts';
import { AccountTokens } from './tokens.ts';
import { EmailChange } from './email-change.ts';

/** Pub/sub channel: an account id whose sessions (some or all) were just revoked. */
export const SESSIONS_REVOKED_CHANNEL = 'identity.sessions_revoked';
/** Carries an account id whose org memberships changed (joined, removed, role changed). */
export const MEMBERSHIPS_CHANGED_CHANNEL = 'identity.memberships_changed';

export const EXPIRED_PURGE_JOB = 'identity.expired_purge';

export interface IdentityService {
  readonly deps: IdentityDeps;
  readonly crypto: CryptoPort;
  readonly accounts: AccountStore;
  readonly sessions: SessionStore;
  readonly tokens: AccountTokens;
  readonly orgs: OrgService;
  readonly signUp: SignUp;
  readonly creator: AccountCreator;
  readonly login: Login;
  readonly passwords: PasswordReset;
  readonly mfa: Mfa;
  readonly emailChange: EmailChange;
  readonly data: AccountData;
  readonly bootstrap: OperatorBootstrap;
  /** The account row of an authenticated caller (401 when it was deleted meanwhile). */
  accountRow(accountId: string): Promise<AccountRow>;
  /** The sensitive routes (MFA, password, deletion) need a password proof within the last few minutes. */
  requireRecentAuth(auth: AuthContext): void;
  caller(request: FastifyRequest): Caller;
  /** For other modules: an account's email, operator flag and memberships; undefined when it does not exist. */
  accountSummary(accountId: string): Promise<
    | {
        id: string;
        email: string;
        emailVerified: boolean;
        operator: boolean;
        orgs: ReadonlyMap<string, OrgRole>;
      }
    | undefined
  >;
  /** Deletes expired sessions, tokens and SRP challenges. */
  purgeExpired(): Promise<void>;
  close(): Promise<void>;
}

export function createIdentityService(
  platform: Platform,
  settings: IdentitySettings = readIdentitySettings(platform.config),
): IdentityService {
  const { config, database, clock, logger, jobs, redis } = platform;
  const { crypto, mail, retention } = platform;
  const audit = new AuditLog({
    database,
    cipher: crypto.cipher,
    clock,
    logger,
    retention,
    ipRetentionMs: settings.auditIpRetentionMs,
  });
  const deps: IdentityDeps = {
    database,
    clock,
    logger,
    cipher: crypto.cipher,
    keys: crypto.keys,
    jobs,
    mailer: createIdentityMailer(mail, logger, { keepInMemory: !config.smtpUrl }),
    limiter: redis ? new RedisRateLimiter(redis) : new MemoryRateLimiter(clock),
    settings,
    audit,
    publicUrl: config.publicUrl,
  };
  const accounts = new AccountStore(database, crypto.cipher);
  // Other modules may cache who a bearer token belongs to for a few seconds (licence validation does): a
  // revocation on any node tells them at once, through the platform's pub/sub (best effort, like every message).
  const announce = (channel: string, what: string) => (accountId: string) => {
    platform.pubsub.publish(channel, accountId).catch((err: unknown) => {
      logger.warn({ err }, `could not announce ${what}`);
    });
  };
  const sessions = new SessionStore(
    database,
    clock,
    settings,
    announce(SESSIONS_REVOKED_CHANNEL, 'a session revocation'),
  );
  const tokens = new AccountTokens(database, clock);
  const orgs = new OrgService(deps, accounts, announce(MEMBERSHIPS_CHANGED_CHANNEL, 'a membership change'));
  const creator = new AccountCreator(deps, accounts, orgs);
  const signUp = new SignUp(deps, accounts, creator, tokens);
  const mfa = new Mfa(deps, accounts);
  const login = new Login(deps, accounts, sessions, mfa);

  for (const column of SEALED_ACCOUNT_COLUMNS) crypto.dataKeys.registerColumn({ table: 'accounts', column });
  crypto.dataKeys.registerColumn({ table: 'orgs', column: 'name_sealed', idColumn: 'tenant_id' });
  crypto.dataKeys.registerColumn({ table: 'invitations', column: 'email_sealed' });
  crypto.dataKeys.registerColumn({ table: 'audit_events', column: 'ip_sealed' });

  const purgeExpired = async () => {
    const now = nowMs(deps);
    await database.db
      .deleteFrom('sessions')
      .where((eb) =>
        eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', now - settings.sessionIdleMs)]),
      )
      .execute();
    await database.db
      .deleteFrom('account_tokens')
      .where('expires_at', '<=', now - DAY)
      .execute();
    await login.purgeChallenges();
  };
  audit.registerRetention();
  jobs.define(EXPIRED_PURGE_JOB, purgeExpired);

  return {
    deps,
    crypto,
    accounts,
    sessions,
    tokens,
    orgs,
    signUp,
    creator,
    login,
    passwords: new PasswordReset(deps, accounts, sessions, tokens),
    mfa,
    emailChange: new EmailChange(deps, accounts, tokens, signUp),
    data: new AccountData(deps, accounts, orgs, sessions),
    bootstrap: new OperatorBootstrap(deps, accounts, creator, tokens),
    async accountRow(accountId) {
      const row = await accounts.byId(accountId);
      if (!row) throw unauthenticated();
      return row;
    },
    requireRecentAuth(auth) {
      if (nowMs(deps) - auth.authenticatedAt > settings.reauthWindowMs) throw reauthenticationRequired();
    },
    caller: (request) => ({ ip: request.ip, accountId: request.auth?.accountId }),
    async accountSummary(accountId) {
      const row = await accounts.byId(accountId);
      if (!row) return undefined;
      const account = await accounts.open(row);
      const memberships = await orgs.listForAccount(accountId);
      return {
        id: account.id,
        email: account.email,
        emailVerified: account.emailVerified,
        operator: account.operator,
        orgs: new Map(memberships.map((m) => [m.id, m.role])),
      };
    },
    purgeExpired,
    close: () => deps.mailer.flush(),
  };
}

/** The periodic jobs, scheduled when the module starts. */
export async function scheduleIdentityJobs(platform: Platform): Promise<void> {
  await platform.jobs.schedule(AUDIT_IP_PURGE_JOB, DAY); // the retention policy's job
  await platform.jobs.schedule(EXPIRED_PURGE_JOB, 3_600_000);
}
