import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.ts';
import { createTestCrypto, type TestCrypto } from '../crypto/testing.ts';
import { describeEachDialect } from '../db/testing.ts';
import { JobQueue } from '../jobs/queue.ts';
import { Mailer, MAIL_MAX_ATTEMPTS, type MailTransport, type OutgoingMail } from './index.ts';

const silent = pino({ level: 'silent' });

describeEachDialect('mail', (h) => {
  let clock: ManualClock;
  let crypto: TestCrypto;
  let jobs: JobQueue;

  beforeAll(() => {
    clock = new ManualClock();
    crypto = createTestCrypto(h.database, clock);
  });
  afterAll(() => crypto.cleanup());
  beforeEach(async () => {
    jobs = new JobQueue(h.database, clock, silent);
    await h.database.db.deleteFrom('jobs').execute();
    await h.database.db.deleteFrom('mail_outbox').execute();
  });
  const mailer = (
    options: { transport?: MailTransport; print?: (t: string) => void; smtpUrl?: string } = {},
  ) =>
    new Mailer(
      { database: h.database, cipher: crypto.cipher, jobs, clock, logger: silent },
      { from: 'Canopy <no-reply@canopy.test>', ...options },
    );

  describe('outbox', () => {
    it('stores a templated mail sealed, delivers it by job, prints it, and lists it decrypted', async () => {
      const printed: string[] = [];
      const m = mailer({ print: (t) => void printed.push(t) });
      const id = await m.send({
        to: 'Ada@Example.com',
        template: 'verify_email',
        data: { link: 'https://canopy.test/verify?t=SENTINEL-token-1' },
      });
      const row = await h.database.db
        .selectFrom('mail_outbox')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({ template: 'verify_email', state: 'queued', transport: 'outbox' });
      expect(Buffer.from(row.message).includes(Buffer.from('SENTINEL'))).toBe(false);
      expect(Buffer.from(row.message).includes(Buffer.from('Ada@Example.com'))).toBe(false);
      expect(printed).toEqual([]); // nothing happens on the request path

      expect(await jobs.drain()).toBe(1);
      expect(printed).toHaveLength(1);
      expect(printed[0]).toContain('https://canopy.test/verify?t=SENTINEL-token-1');

      const [entry] = await m.list();
      expect(entry).toMatchObject({
        id,
        to: 'Ada@Example.com',
        subject: 'Confirm your email address',
        state: 'stored',
        attempts: 1,
      });
      expect(entry!.html).toContain('href="https://canopy.test/verify?t=SENTINEL-token-1"');
      expect((await m.list({ to: ' ada@example.COM' })).map((e) => e.id)).toEqual([id]);
      expect(await m.list({ to: 'bob@example.com' })).toEqual([]);
    });

    it('accepts the licensing module’s mails and custom ones', async () => {
      const m = mailer();
      await m.send({
        to: 'a@x.test',
        template: 'license_granted',
        data: { email: 'a@x.test', orgId: 'o1', licenseId: 'l1', products: 'Pro' },
      });
      await m.send({
        to: 'a@x.test',
        template: 'license_revoked',
        data: { email: 'a@x.test', orgId: 'o1', licenseId: 'l1', reason: 'removed' },
      });
      await m.send({
        to: 'admin@x.test',
        template: 'seat_limit_reached',
        data: { orgId: 'o1', licenseId: 'l1', email: 'a@x.test', source: 'portal' },
      });
      await m.sendMessage({ to: 'c@x.test', subject: 'You are invited', text: 'Join us', tag: 'invitation' });
      await jobs.drain();
      const list = await m.list();
      expect(list.map((e) => [e.template, e.state]).sort()).toEqual([
        ['custom:invitation', 'stored'],
        ['license_granted', 'stored'],
        ['license_revoked', 'stored'],
        ['seat_limit_reached', 'stored'],
      ]);
    });

    it('refuses unknown templates, bad data and bad recipients at send time', async () => {
      const m = mailer();
      await expect(m.send({ to: 'a@x.test', template: 'nope', data: {} })).rejects.toThrow(
        /no such template/,
      );
      await expect(m.send({ to: 'a@x.test', template: 'reset_password', data: {} })).rejects.toThrow(/link/);
      await expect(
        m.send({
          to: 'a@x.test\r\nBcc: evil@x.test',
          template: 'reset_password',
          data: { link: 'https://x.test' },
        }),
      ).rejects.toThrow(/recipient/);
      await expect(
        m.sendMessage({ to: 'a@x.test', subject: 'a\nBcc: b', text: 'x', tag: 't' }),
      ).rejects.toThrow(/subject/);
    });
  });

  it('retries a failing transport with backoff, and marks the mail failed after the last attempt', async () => {
    let failuresLeft = 2;
    const delivered: OutgoingMail[] = [];
    const flaky: MailTransport = {
      kind: 'smtp',
      deliver: async (mail) => {
        if (failuresLeft-- > 0) throw new Error('421 try again later');
        delivered.push(mail);
      },
      close: async () => {},
    };
    const m = mailer({ transport: flaky });
    const id = await m.send({
      to: 'a@x.test',
      template: 'reset_password',
      data: { link: 'https://x.test/r' },
    });
    await jobs.drain();
    expect((await m.list())[0]).toMatchObject({
      id,
      state: 'queued',
      attempts: 1,
      lastError: '421 try again later',
    });
    clock.advance(5_000);
    await jobs.drain();
    clock.advance(10_000);
    await jobs.drain();
    expect(delivered.map((d) => d.to)).toEqual(['a@x.test']);
    expect((await m.list())[0]).toMatchObject({ id, state: 'sent', attempts: 3, lastError: null });

    const dead: MailTransport = {
      kind: 'smtp',
      deliver: async () => Promise.reject(new Error('550 no such user')),
      close: async () => {},
    };
    jobs = new JobQueue(h.database, clock, silent);
    const m2 = mailer({ transport: dead });
    const id2 = await m2.send({
      to: 'b@x.test',
      template: 'reset_password',
      data: { link: 'https://x.test/r' },
    });
    for (let i = 0; i < MAIL_MAX_ATTEMPTS; i++) {
      await jobs.drain();
      clock.advance(3_600_000);
    }
    expect((await m2.list()).find((e) => e.id === id2)).toMatchObject({
      state: 'failed',
      attempts: MAIL_MAX_ATTEMPTS,
      lastError: '550 no such user',
    });
  });

  const smtpIt = process.env.CANOPY_TEST_SMTP === '1' ? it : it.skip;
  smtpIt('delivers over SMTP to a real server, with text and HTML parts (CANOPY_TEST_SMTP=1)', async () => {
    const received: { from: string; to: string[]; raw: string }[] = [];
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, done) {
        const parts: Buffer[] = [];
        stream.on('data', (c: Buffer) => parts.push(c));
        stream.on('end', () => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(parts).toString('utf8'),
          });
          done();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.server.address() as AddressInfo).port;
    try {
      const m = mailer({ smtpUrl: `smtp://127.0.0.1:${port}` });
      const id = await m.send({
        to: 'ada@example.com',
        template: 'reset_password',
        data: { link: 'https://canopy.test/reset?t=xyz' },
      });
      expect(await jobs.drain()).toBe(1);
      expect(received).toHaveLength(1);
      expect(received[0]!.from).toBe('no-reply@canopy.test');
      expect(received[0]!.to).toEqual(['ada@example.com']);
      expect(received[0]!.raw).toContain('Subject: Reset your Canopy password');
      expect(received[0]!.raw).toMatch(/Content-Type: text\/plain/);
      expect(received[0]!.raw).toMatch(/Content-Type: text\/html/);
      expect((await m.list())[0]).toMatchObject({ id, state: 'sent', transport: 'smtp' });
      await m.close();
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
