/** What every licensing command is built from: the platform's pieces, the ports, and the module's caches. */
import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/connect.ts';
import type { PolicyBook } from './policies.ts';
import type { SeatPersonalData } from './personal-data.ts';
import type { LicensingPorts } from './ports.ts';
import type { LicenseDirectory } from './repo.ts';

export const DEFAULT_PRODUCTS = [
  'desktop-windows',
  'desktop-mac',
  'mobile',
  'teams',
  'snap',
  'reader',
] as const;

export interface LicensingContext {
  readonly database: Database;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly ports: LicensingPorts;
  readonly products: ReadonlySet<string>;
  readonly policies: PolicyBook;
  readonly directory: LicenseDirectory;
  /** Seat emails: their blind index (lookups) and sealing (storage). */
  readonly people: SeatPersonalData;
  readonly publicUrl: string;
  /** Called after every write that can change a validation answer (this node's caches). */
  readonly invalidate: () => void;
}

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
export const isoOf = (ms: number): string => new Date(ms).toISOString();

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function parseProducts(json: string): string[] {
  const v: unknown = JSON.parse(json);
  return Array.isArray(v) ? v.filter((p): p is string => typeof p === 'string') : [];
}

/** Mail is best-effort after the commit: a mail port failure is logged, never undoes the change. */
export async function sendMails(
  ctx: LicensingContext,
  mails: Parameters<LicensingPorts['mailer']['send']>[0][],
) {
  for (const mail of mails) {
    try {
      await ctx.ports.mailer.send(mail);
    } catch (err) {
      ctx.logger.error({ err, template: mail.template }, 'licensing mail could not be queued');
    }
  }
}
