/**
 * An in-process SMTP mailbox (smtp-server) that a real Canopy process delivers to (CANOPY_SMTP_URL), so browser
 * tests read the verification, reset and invitation mails exactly as a person would receive them.
 */
import {
  decodeMail,
  startSmtpCapture,
  type ReceivedMail,
} from '../../apps/server/src/platform/mail/testing.ts';

export { decodeMail, type ReceivedMail };

export interface Mailbox {
  /** smtp://127.0.0.1:<port>, for CANOPY_SMTP_URL. */
  readonly url: string;
  /**
   * Waits for the next mail to `to` whose subject matches and removes it from the box. Delivery is a server job
   * polled about once a second, so the default wait is generous.
   */
  take(to: string, subject: RegExp, timeoutMs?: number): Promise<ReceivedMail>;
  all(): readonly ReceivedMail[];
  close(): Promise<void>;
}

export async function startMailbox(): Promise<Mailbox> {
  const received: ReceivedMail[] = [];
  const { url, close } = await startSmtpCapture((mail) => received.push(mail));
  return {
    url,
    async take(to, subject, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const at = received.findIndex(
          (m) => m.to.toLowerCase() === to.toLowerCase() && subject.test(m.subject),
        );
        if (at >= 0) return received.splice(at, 1)[0] as ReceivedMail;
        if (Date.now() > until) {
          throw new Error(
            `no mail to ${to} matching ${String(subject)} within ${timeoutMs} ms; have: ${JSON.stringify(received.map((m) => [m.to, m.subject]))}`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    all: () => received,
    close,
  };
}

/** The link in a mail that carries `?token=` (verification, reset, invitation), as the full URL. */
export function linkFrom(mail: ReceivedMail): string {
  const m = /https?:\/\/\S+[?&]token=[A-Za-z0-9_\-.%]+/.exec(mail.text);
  if (!m) throw new Error(`no token link in mail: ${mail.text}`);
  return m[0];
}

export function tokenFrom(mail: ReceivedMail): string {
  const token = new URL(linkFrom(mail)).searchParams.get('token');
  if (!token) throw new Error(`no token in mail: ${mail.text}`);
  return token;
}
