/** The mail outbox table (migration 0011_mail.ts). */
declare module '../db/schema.ts' {
  interface Tables {
    mail_outbox: MailOutboxTable;
  }
}

/**
 * Every mail the platform sends, kept for operators (`canopy mail outbox`) until the retention purge.
 * Recipient, subject and bodies are sealed together in `message` (they hold personal data and single-use
 * links); `to_index` is a blind index of the recipient, for finding an address's mails.
 */
export interface MailOutboxTable {
  id: string;
  /** The tenant the mail is about, when there is one (for offboarding); not a tenancy wall. */
  tenant_id: string | null;
  template: string;
  to_index: string;
  message: Buffer;
  /** 'smtp': delivered over SMTP; 'outbox': no SMTP configured, kept here only. */
  transport: 'smtp' | 'outbox';
  /** queued → sent (SMTP accepted it) | stored (outbox only) | failed (gave up after the last retry). */
  state: 'queued' | 'sent' | 'stored' | 'failed';
  attempts: number;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
}
