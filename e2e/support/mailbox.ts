/**
 * An in-process SMTP mailbox (smtp-server) that a real Canopy process delivers to (CANOPY_SMTP_URL), so browser
 * tests read the verification, reset and invitation mails exactly as a person would receive them.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string;
  subject: string;
  /** The text/plain part, decoded. */
  text: string;
}

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

function parsePart(raw: string): { header: (name: string) => string; body: string } {
  const cut = raw.search(/\r?\n\r?\n/);
  const head = (cut < 0 ? raw : raw.slice(0, cut)).replace(/\r?\n[ \t]+/g, ' ');
  const body = cut < 0 ? '' : raw.slice(cut).replace(/^\r?\n\r?\n/, '');
  return { header: (name) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1]?.trim() ?? '', body };
}

function decodeBody(body: string, encoding: string): string {
  if (/quoted-printable/i.test(encoding)) {
    const bytes = body
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  if (/base64/i.test(encoding)) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

/** Enough MIME for Canopy's mails: header unfolding, multipart/alternative (its text part), QP and base64. */
export function decodeMail(raw: string): ReceivedMail {
  const top = parsePart(raw);
  let text = decodeBody(top.body, top.header('Content-Transfer-Encoding'));
  const boundary = /boundary="?([^";]+)"?/i.exec(top.header('Content-Type'))?.[1];
  if (boundary) {
    const parts = top.body.split(`--${boundary}`).map(parsePart);
    const plain = parts.find((p) => /text\/plain/i.test(p.header('Content-Type')));
    if (plain) text = decodeBody(plain.body, plain.header('Content-Transfer-Encoding'));
  }
  return { to: top.header('To').replace(/^.*<|>.*$/g, ''), subject: top.header('Subject'), text };
}

export async function startMailbox(): Promise<Mailbox> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push(decodeMail(Buffer.concat(chunks).toString('utf8')));
        callback();
      });
    },
  });
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  const url = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
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
    close: () => new Promise<void>((r) => server.close(() => r())),
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
