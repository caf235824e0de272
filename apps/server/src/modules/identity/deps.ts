/** What the identity module's commands are built from: the platform ports it uses, passed in. */
import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/connect.ts';
import type { Cipher, TenantKeyStore } from '../../platform/crypto/index.ts';
import type { JobQueue } from '../../platform/jobs/queue.ts';
import type { AuditLog } from './audit.ts';
import type { IdentityMailer } from './mail.ts';
import type { RateLimiter } from './rate-limits.ts';
import type { IdentitySettings } from './settings.ts';

export interface IdentityDeps {
  database: Database;
  clock: Clock;
  logger: Logger;
  cipher: Cipher;
  keys: TenantKeyStore;
  jobs: JobQueue;
  mailer: IdentityMailer;
  limiter: RateLimiter;
  settings: IdentitySettings;
  audit: AuditLog;
  /** Links in mails start here (CANOPY_PUBLIC_URL). */
  publicUrl: string;
}

/** Who made a request, for the audit log and rate limits. */
export interface Caller {
  ip: string;
  accountId?: string | undefined;
}

export const nowMs = (deps: { clock: Clock }): number => deps.clock.now().getTime();
