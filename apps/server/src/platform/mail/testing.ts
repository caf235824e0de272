/**
 * Test support for reading the mails Canopy sends, shared by the server's tests (identity's mailbox) and the
 * browser tests (e2e/support/mailbox.ts): enough MIME for our own mails, not a general parser.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string;
  subject: string;
  text: string;
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

/** Enough MIME for the mails sent here: header unfolding, multipart/alternative (its text part), QP and base64. */
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

/** A real SMTP server on a free loopback port that decodes every mail it accepts and hands it to `onMail`. */
export async function startSmtpCapture(
  onMail: (mail: ReceivedMail) => void,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        onMail(decodeMail(Buffer.concat(chunks).toString('utf8')));
        callback();
      });
    },
  });
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  return {
    url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
