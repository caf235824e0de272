/**
 * The mail port. `send` renders a template, stores the mail (sealed) in the outbox and queues a
 * `mail.deliver` job; the job hands it to the transport and is retried with backoff when that fails.
 * Transports: SMTP (nodemailer) when `CANOPY_SMTP_URL` is set; otherwise the outbox is the destination:
 * operators read it with `canopy mail outbox`, and in development each mail is also printed to the console.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { Cipher } from '../crypto/cipher.ts';
import { normaliseEmail } from '../crypto/cipher.ts';
import { SYSTEM_TENANT } from '../crypto/tenant-keys.ts';
import type { Database } from '../db/connect.ts';
import { smtpDriver } from '../drivers.ts';
import type { JobQueue } from '../jobs/queue.ts';
import { DAY_MS, tablePurge, type PurgePolicy } from '../retention/index.ts';
import type { MailOutboxTable } from './tables.ts';
import { isTemplateName, renderTemplate, TemplateDataError, type TemplateData } from './templates.ts';
import './tables.ts';

export {
  renderTemplate,
  TEMPLATE_NAMES,
  TemplateDataError,
  type TemplateName,
  type RenderedMail,
} from './templates.ts';

export const MAIL_DELIVER_JOB = 'mail.deliver';
export const MAIL_MAX_ATTEMPTS = 8;

export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string | undefined;
}

export interface MailTransport {
  readonly kind: 'smtp' | 'outbox';
  /** Throws when the mail was not accepted (the job retries). */
  deliver(mail: OutgoingMail): Promise<void>;
  close(): Promise<void>;
}

export function smtpTransport(url: string): MailTransport {
  const transport = smtpDriver().createTransport(url);
  return {
    kind: 'smtp',
    async deliver(mail) {
      await transport.sendMail({
        from: mail.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        ...(mail.html ? { html: mail.html } : {}),
      });
    },
    async close() {
      transport.close();
    },
  };
}

/** No SMTP: the outbox row is the mail. `print` shows it on the console (development). */
export function outboxTransport(print?: (text: string) => void): MailTransport {
  return {
    kind: 'outbox',
    async deliver(mail) {
      print?.(
        `\n--- mail (outbox) -------------------------------------------\nTo: ${mail.to}\nSubject: ${mail.subject}\n\n${mail.text}-------------------------------------------------------------\n`,
      );
    },
    async close() {},
  };
}

interface SealedMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface OutboxEntry {
  id: string;
  tenantId: string | null;
  template: string;
  to: string;
  subject: string;
  text: string;
  html: string | undefined;
  transport: MailOutboxTable['transport'];
  state: MailOutboxTable['state'];
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

export interface MailDeps {
  database: Database;
  cipher: Cipher;
  jobs: JobQueue;
  clock: Clock;
  logger: Logger;
}

export interface MailOptions {
  from: string;
  /** SMTP URL (config.smtpUrl); without it mail stays in the outbox. */
  smtpUrl?: string | undefined;
  /** Print outbox mails to the console (development). */
  print?: ((text: string) => void) | undefined;
  /** Overrides the transport (tests). */
  transport?: MailTransport;
}

const ref = (id: string) => ({ table: 'mail_outbox', id, column: 'message' });
const EMAIL = /^[^@\s<>,;"]+@[^@\s<>,;"]+$/;

export class Mailer {
  readonly transport: MailTransport;
  private readonly from: string;

  constructor(
    private readonly deps: MailDeps,
    options: MailOptions,
  ) {
    this.from = options.from;
    this.transport =
      options.transport ??
      (options.smtpUrl ? smtpTransport(options.smtpUrl) : outboxTransport(options.print));
    deps.jobs.define<{ id: string }>(MAIL_DELIVER_JOB, (p, ctx) => this.deliver(p.id, ctx.attempt), {
      maxAttempts: MAIL_MAX_ATTEMPTS,
    });
  }

  /**
   * Renders `template` and queues it for `to`; returns the outbox id. `template` is a TemplateName; any string is
   * accepted so that callers with their own unions type-check, and checked here.
   */
  async send(mail: { to: string; template: string; data: TemplateData; tenantId?: string }): Promise<string> {
    if (!isTemplateName(mail.template)) throw new TemplateDataError(mail.template, 'no such template');
    const rendered = renderTemplate(mail.template, mail.data);
    return this.enqueue({
      to: mail.to,
      template: mail.template,
      tenantId: mail.tenantId,
      message: { to: mail.to, ...rendered },
    });
  }

  /** A mail with wording of the caller's own (e.g. an invitation); `tag` names it in the outbox. */
  async sendMessage(mail: {
    to: string;
    subject: string;
    text: string;
    html?: string;
    tag: string;
    tenantId?: string;
  }): Promise<string> {
    return this.enqueue({
      to: mail.to,
      template: `custom:${mail.tag}`,
      tenantId: mail.tenantId,
      message: {
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        ...(mail.html ? { html: mail.html } : {}),
      },
    });
  }

  private async enqueue(m: {
    to: string;
    template: string;
    tenantId: string | undefined;
    message: SealedMessage;
  }): Promise<string> {
    if (!EMAIL.test(m.to)) throw new TemplateDataError(m.template, 'the recipient is not an email address');
    if (/[\r\n]/.test(m.message.subject))
      throw new TemplateDataError(m.template, 'the subject has a line break');
    const { database, cipher, jobs, clock } = this.deps;
    const id = randomUUID();
    const row: MailOutboxTable = {
      id,
      tenant_id: m.tenantId ?? null,
      template: m.template,
      to_index: await cipher.blindIndex(SYSTEM_TENANT, 'mail.to', m.to, normaliseEmail),
      message: await cipher.seal(SYSTEM_TENANT, ref(id), JSON.stringify(m.message)),
      transport: this.transport.kind,
      state: 'queued',
      attempts: 0,
      last_error: null,
      created_at: clock.now().getTime(),
      sent_at: null,
    };
    await database.db.insertInto('mail_outbox').values(row).execute();
    await jobs.enqueue(MAIL_DELIVER_JOB, { id }, { key: `mail:${id}` });
    return id;
  }

  private async deliver(id: string, attempt: number): Promise<void> {
    const { database, cipher, clock } = this.deps;
    const row = await database.db
      .selectFrom('mail_outbox')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row || row.state !== 'queued') return; // purged, or already delivered by an earlier attempt
    const message = JSON.parse(await cipher.openText(SYSTEM_TENANT, ref(id), row.message)) as SealedMessage;
    try {
      await this.transport.deliver({
        from: this.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
      });
    } catch (err) {
      const failedForGood = attempt >= MAIL_MAX_ATTEMPTS;
      await database.db
        .updateTable('mail_outbox')
        .set({
          attempts: attempt,
          last_error: err instanceof Error ? err.message.slice(0, 2_000) : String(err),
          ...(failedForGood ? { state: 'failed' as const } : {}),
        })
        .where('id', '=', id)
        .execute();
      throw err;
    }
    await database.db
      .updateTable('mail_outbox')
      .set({
        state: this.transport.kind === 'smtp' ? 'sent' : 'stored',
        attempts: attempt,
        sent_at: clock.now().getTime(),
        last_error: null,
      })
      .where('id', '=', id)
      .execute();
  }

  /** The outbox, newest first, decrypted (operators; `canopy mail outbox`). */
  async list(
    options: { limit?: number; to?: string; state?: MailOutboxTable['state']; id?: string } = {},
  ): Promise<OutboxEntry[]> {
    const { database, cipher } = this.deps;
    let q = database.db
      .selectFrom('mail_outbox')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(options.limit ?? 50);
    if (options.state) q = q.where('state', '=', options.state);
    if (options.id) q = q.where('id', '=', options.id);
    if (options.to)
      q = q.where(
        'to_index',
        '=',
        await cipher.blindIndex(SYSTEM_TENANT, 'mail.to', options.to, normaliseEmail),
      );
    const rows = await q.execute();
    const out: OutboxEntry[] = [];
    for (const r of rows) {
      const m = JSON.parse(await cipher.openText(SYSTEM_TENANT, ref(r.id), r.message)) as SealedMessage;
      out.push({
        id: r.id,
        tenantId: r.tenant_id,
        template: r.template,
        to: m.to,
        subject: m.subject,
        text: m.text,
        html: m.html,
        transport: r.transport,
        state: r.state,
        attempts: Number(r.attempts),
        lastError: r.last_error,
        createdAt: new Date(Number(r.created_at)),
        sentAt: r.sent_at === null ? null : new Date(Number(r.sent_at)),
      });
    }
    return out;
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}

export function createMailer(options: MailOptions, deps: MailDeps): Mailer {
  return new Mailer(deps, options);
}

/** The outbox's retention: mails (and the links in them) are kept 30 days by default, then purged. */
export function mailOutboxRetention(database: Database, maxAgeMs = 30 * DAY_MS): PurgePolicy {
  return {
    name: 'mail.outbox',
    maxAgeMs,
    purgeBatch: tablePurge(database, { table: 'mail_outbox', timeColumn: 'created_at', keyColumns: ['id'] }),
  };
}
