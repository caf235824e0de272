/**
 * The mails this module sends (verification, password reset, invitation, "you already have an account").
 * Sent off the request path, so that an answer takes as long whether or not a mail goes out.
 *
 * Until platform/mail (outbox, templates, sending as a job) is available, this adapter sends over SMTP with
 * nodemailer when CANOPY_SMTP_URL is set, and otherwise keeps the messages in memory (`outbox`, for tests and
 * development) and logs that a mail was queued, without its content (it carries single-use tokens).
 */
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';

export type IdentityMailKind = 'verify_email' | 'reset_password' | 'invitation' | 'account_exists' | 'email_changed';

export interface IdentityMail {
  kind: IdentityMailKind;
  to: string;
  subject: string;
  text: string;
}

export interface IdentityMailer {
  /** Queues the mail; never throws and never waits for delivery. */
  dispatch(mail: IdentityMail): void;
  /** Waits for mails in flight (shutdown, tests). */
  flush(): Promise<void>;
  /** The messages kept in memory when there is no SMTP server. */
  readonly outbox: IdentityMail[];
  close(): Promise<void>;
}

export function createIdentityMailer(options: { smtpUrl: string | undefined; from: string; logger: Logger }): IdentityMailer {
  const transport = options.smtpUrl ? nodemailer.createTransport(options.smtpUrl) : undefined;
  const outbox: IdentityMail[] = [];
  const inFlight = new Set<Promise<void>>();
  return {
    outbox,
    dispatch(mail) {
      const p = (async () => {
        if (!transport) {
          outbox.push(mail);
          if (outbox.length > 1_000) outbox.shift();
          options.logger.info({ kind: mail.kind }, 'mail kept in the in-memory outbox (no CANOPY_SMTP_URL)');
          return;
        }
        await transport.sendMail({ from: options.from, to: mail.to, subject: mail.subject, text: mail.text });
      })()
        .catch((err: unknown) => options.logger.error({ err, kind: mail.kind }, 'could not send mail'))
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    },
    async flush() {
      await Promise.all([...inFlight]);
    },
    async close() {
      await Promise.all([...inFlight]);
      transport?.close();
    },
  };
}
