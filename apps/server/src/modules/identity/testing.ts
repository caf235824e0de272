/**
 * Test helpers for the identity module: a mailbox that reads mails from a real SMTP server (smtp-server, when
 * CANOPY_TEST_SMTP=1) or from the in-memory outbox, and small HTTP helpers over `app.inject()`.
 */
import type { LightMyRequestResponse } from 'fastify';
import type { App } from '../../app.ts';
import type { Platform } from '../../platform/index.ts';
import { startSmtpCapture, type ReceivedMail } from '../../platform/mail/testing.ts';
import { identityService } from './index.ts';

export type { ReceivedMail } from '../../platform/mail/testing.ts';

export interface Mailbox {
  /** The env that points the app at this mailbox (CANOPY_SMTP_URL when over SMTP). */
  env: Record<string, string>;
  readonly viaSmtp: boolean;
  attach(platform: Platform): void;
  /** Waits for the next mail to `to` whose subject matches, and removes it from the box. */
  take(to: string, subject: RegExp): Promise<ReceivedMail>;
  all(): ReceivedMail[];
  close(): Promise<void>;
}

export async function createMailbox(): Promise<Mailbox> {
  const received: ReceivedMail[] = [];
  let platform: Platform | undefined;
  let smtp: Awaited<ReturnType<typeof startSmtpCapture>> | undefined;
  const env: Record<string, string> = {};
  if (process.env.CANOPY_TEST_SMTP === '1') {
    smtp = await startSmtpCapture((mail) => received.push(mail));
    env.CANOPY_SMTP_URL = smtp.url;
  }
  const pool = () => {
    if (smtp || !platform) return received;
    const outbox = identityService(platform).deps.mailer.outbox;
    while (outbox.length) {
      const m = outbox.shift();
      if (m) received.push({ to: m.to, subject: m.subject, text: m.text });
    }
    return received;
  };
  return {
    env,
    viaSmtp: Boolean(smtp),
    attach(p) {
      platform = p;
    },
    async take(to, subject) {
      for (let i = 0; i < 500; i++) {
        if (platform) {
          await identityService(platform).deps.mailer.flush();
          // Over SMTP, delivery is a job (platform/mail); the test app does not run the worker.
          if (smtp) await platform.jobs.drain();
        }
        const box = pool();
        const at = box.findIndex((m) => m.to === to && subject.test(m.subject));
        if (at >= 0) return box.splice(at, 1)[0] as ReceivedMail;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(
        `no mail to ${to} matching ${String(subject)}; have: ${JSON.stringify(pool().map((m) => [m.to, m.subject]))}`,
      );
    },
    all: () => pool(),
    close: async () => {
      await smtp?.close();
    },
  };
}

export function tokenFrom(mail: ReceivedMail): string {
  const m = /[?&]token=([A-Za-z0-9_\-.%]+)/.exec(mail.text);
  if (!m?.[1]) throw new Error(`no token link in mail: ${mail.text}`);
  return decodeURIComponent(m[1]);
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export interface Http {
  post(
    url: string,
    payload?: unknown,
    headers?: Record<string, string>,
    remoteAddress?: string,
  ): Promise<LightMyRequestResponse>;
  get(url: string, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  del(url: string, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  patch(url: string, payload: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
}

export function http(app: App): Http {
  const base = '/api/v1';
  return {
    post: (url, payload, headers = {}, remoteAddress) =>
      app.inject({
        method: 'POST',
        url: base + url,
        ...(payload === undefined ? {} : { payload: payload as object }),
        headers,
        ...(remoteAddress ? { remoteAddress } : {}),
      }),
    get: (url, headers = {}) => app.inject({ method: 'GET', url: base + url, headers }),
    del: (url, headers = {}) => app.inject({ method: 'DELETE', url: base + url, headers }),
    patch: (url, payload, headers = {}) =>
      app.inject({ method: 'PATCH', url: base + url, payload: payload as object, headers }),
  };
}
