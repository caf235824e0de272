/**
 * The mails this module sends, through the platform's mail port (platform/mail: sealed outbox, templates,
 * delivery as a retried job over SMTP, or kept in the outbox for `canopy mail outbox`). Verification and reset
 * use the port's templates; the others are messages of this module's own wording.
 *
 * Queued off the request path (not awaited), so that an answer takes as long whether or not a mail goes out.
 */
import type { Logger } from 'pino';

export type IdentityMailKind =
  'verify_email' | 'reset_password' | 'invitation' | 'account_exists' | 'email_changed';

export interface IdentityMail {
  kind: IdentityMailKind;
  to: string;
  /** The port's template and its data, when the port has one for this kind. */
  template?: { name: 'verify_email' | 'reset_password'; data: Record<string, unknown> };
  /** Used when there is no template. */
  subject: string;
  text: string;
  tenantId?: string;
}

/** The part of platform/mail's `Mailer` this module uses. */
export interface MailPort {
  send(mail: {
    to: string;
    template: string;
    data: Record<string, unknown>;
    tenantId?: string;
  }): Promise<string>;
  sendMessage(mail: {
    to: string;
    subject: string;
    text: string;
    tag: string;
    tenantId?: string;
  }): Promise<string>;
}

export interface IdentityMailer {
  /** Queues the mail; never throws and never waits. */
  dispatch(mail: IdentityMail): void;
  /** Waits until the mails dispatched so far are queued in the outbox (shutdown, tests). */
  flush(): Promise<void>;
  readonly port: MailPort;
  /**
   * Without an SMTP server only: the last 200 mails this process dispatched, in memory (development and tests;
   * the same mails are in the port's sealed outbox, which `canopy mail outbox` reads). Empty with SMTP.
   */
  readonly outbox: IdentityMail[];
}

export function createIdentityMailer(
  port: MailPort,
  logger: Logger,
  options: { keepInMemory: boolean },
): IdentityMailer {
  const inFlight = new Set<Promise<void>>();
  const outbox: IdentityMail[] = [];
  return {
    port,
    outbox,
    dispatch(mail) {
      if (options.keepInMemory) {
        outbox.push(mail);
        if (outbox.length > 200) outbox.shift();
      }
      const tenant = mail.tenantId ? { tenantId: mail.tenantId } : {};
      const p = (async () => {
        if (mail.template)
          await port.send({ to: mail.to, template: mail.template.name, data: mail.template.data, ...tenant });
        else
          await port.sendMessage({
            to: mail.to,
            subject: mail.subject,
            text: mail.text,
            tag: `identity.${mail.kind}`,
            ...tenant,
          });
      })()
        .catch((err: unknown) => logger.error({ err, kind: mail.kind }, 'could not queue mail'))
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    },
    async flush() {
      await Promise.all([...inFlight]);
    },
  };
}
