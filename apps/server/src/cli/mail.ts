/** `canopy mail outbox`: the operator's view of the mail outbox (decrypted; it holds personal data). */
import { parseArgs } from 'node:util';
import type { CliCommand } from '../cli.ts';
import { loadConfig } from '../config.ts';
import { systemClock } from '../platform/clock.ts';
import { createCrypto } from '../platform/crypto/index.ts';
import { openDatabase } from '../platform/db/connect.ts';
import { JobQueue } from '../platform/jobs/queue.ts';
import { createLogger } from '../platform/log.ts';
import { Mailer } from '../platform/mail/index.ts';

const STATES = ['queued', 'sent', 'stored', 'failed'] as const;

export const command: CliCommand = {
  name: 'mail outbox',
  summary: 'List the mail outbox (newest first), or show one mail',
  usage: [
    'canopy mail outbox [--limit N] [--state queued|sent|stored|failed] [--to ADDRESS] [--json]',
    'canopy mail outbox --show ID [--html]',
    '',
    '  Without CANOPY_SMTP_URL every mail stays here (state "stored"); with it, this is the delivery log.',
    '  Mails are kept 30 days. They may hold single-use links: treat the output as confidential.',
  ].join('\n'),
  async run(args, env) {
    const { values } = parseArgs({
      args,
      options: {
        limit: { type: 'string' },
        state: { type: 'string' },
        to: { type: 'string' },
        show: { type: 'string' },
        html: { type: 'boolean' },
        json: { type: 'boolean' },
      },
    });
    const limit = values.limit ? Number(values.limit) : 50;
    if (!Number.isInteger(limit) || limit < 1) {
      console.error('--limit must be a positive integer');
      return 2;
    }
    const state = values.state as (typeof STATES)[number] | undefined;
    if (state && !STATES.includes(state)) {
      console.error(`--state must be one of ${STATES.join(', ')}`);
      return 2;
    }
    const config = loadConfig(env);
    const logger = createLogger('warn');
    const database = openDatabase(config.databaseUrl, { poolSize: 1 });
    try {
      const jobs = new JobQueue(database, systemClock, logger);
      const crypto = createCrypto({ dataDir: config.dataDir }, { database, clock: systemClock, logger });
      const mailer = new Mailer(
        { database, cipher: crypto.cipher, jobs, clock: systemClock, logger },
        {
          from: config.mailFrom,
          transport: { kind: 'outbox', deliver: async () => {}, close: async () => {} },
        },
      );
      if (values.show) {
        const [entry] = await mailer.list({ id: values.show });
        if (!entry) {
          console.error(`no mail ${values.show} in the outbox`);
          return 1;
        }
        console.log(
          `Id: ${entry.id}\nDate: ${entry.createdAt.toISOString()}\nState: ${entry.state} (${entry.transport}, ${entry.attempts} attempts)${entry.lastError ? `\nLast error: ${entry.lastError}` : ''}\nTemplate: ${entry.template}\nTo: ${entry.to}\nSubject: ${entry.subject}\n`,
        );
        console.log(values.html ? (entry.html ?? '(no HTML part)') : entry.text);
        return 0;
      }
      const entries = await mailer.list({
        limit,
        ...(state ? { state } : {}),
        ...(values.to ? { to: values.to } : {}),
      });
      if (values.json) {
        console.log(
          JSON.stringify(
            entries.map(({ html: _html, ...e }) => e),
            null,
            2,
          ),
        );
        return 0;
      }
      if (!entries.length) {
        console.log('the outbox is empty');
        return 0;
      }
      for (const e of entries) {
        console.log(
          `${e.createdAt.toISOString()}  ${e.state.padEnd(6)}  ${e.template.padEnd(20)}  ${e.to}  "${e.subject}"  ${e.id}`,
        );
      }
      return 0;
    } finally {
      await database.close();
    }
  },
};
