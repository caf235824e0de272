import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../platform/clock.ts';
import { createCrypto } from '../platform/crypto/index.ts';
import { openDatabase } from '../platform/db/connect.ts';
import { migrateToLatest } from '../platform/db/migrator.ts';
import { JobQueue } from '../platform/jobs/queue.ts';
import { Mailer } from '../platform/mail/index.ts';
import { commands as keyCommands } from './keys.ts';
import { command as outbox } from './mail.ts';

const dir = mkdtempSync(join(tmpdir(), 'canopy-cli-'));
const env = { CANOPY_DATA_DIR: dir, CANOPY_LOG_LEVEL: 'silent' } as NodeJS.ProcessEnv;
const rotate = keyCommands.find((c) => c.name === 'keys rotate')!;
const status = keyCommands.find((c) => c.name === 'keys status')!;

async function capture(run: () => Promise<unknown>): Promise<{ code: unknown; out: string }> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await run();
    return { code, out: lines.join('\n') };
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

describe('canopy keys / canopy mail outbox', () => {
  let mailId = '';
  beforeAll(async () => {
    const database = openDatabase(`sqlite:${join(dir, 'canopy.sqlite')}`);
    await migrateToLatest(database);
    const logger = pino({ level: 'silent' });
    const crypto = createCrypto({ dataDir: dir }, { database, clock: systemClock, logger });
    await crypto.cipher.seal('tenant-1', { table: 't', id: '1', column: 'c' }, 'x');
    const mailer = new Mailer(
      {
        database,
        cipher: crypto.cipher,
        jobs: new JobQueue(database, systemClock, logger),
        clock: systemClock,
        logger,
      },
      { from: 'x@canopy.test' },
    );
    mailId = await mailer.send({
      to: 'ada@example.com',
      template: 'reset_password',
      data: { link: 'https://canopy.test/r?t=1' },
    });
    await database.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rotates the root key, and a second run adds the next version', async () => {
    const first = await capture(() => rotate.run([], env));
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/root key version 2 is current; re-wrapped 3 tenant keys/); // tenant-1; the system tenant's data and index keys
    expect(first.out).toMatch(/retired root key versions 1/);
    const second = await capture(() => rotate.run(['--batch-size', '1'], env));
    expect(second.out).toMatch(/root key version 3 is current; re-wrapped 3 tenant keys/);
  });

  it('shows the keyring and what each version wraps', async () => {
    const { out } = await capture(() => status.run([], env));
    expect(out).toMatch(/v3 \(current\).*wraps 3 tenant keys/);
    expect(out).toMatch(/v1 .*retired .*wraps 0 tenant keys/);
    expect(out).toMatch(/no rotation in progress/);
  });

  it('rotates one tenant data key and queues its re-encryption', async () => {
    const { code, out } = await capture(() => rotate.run(['--tenant', 'tenant-1'], env));
    expect(code).toBe(0);
    expect(out).toMatch(/tenant tenant-1: data key version 2 is now used for new writes \(was 1\)/);
    expect((await capture(() => status.run([], env))).out).toMatch(
      /in progress: tenant tenant-1 data key → v2/,
    );
  });

  it('lists the outbox and shows one mail', async () => {
    const list = await capture(() => outbox.run([], env));
    expect(list.out).toContain('reset_password');
    expect(list.out).toContain('ada@example.com');
    expect(list.out).toContain(mailId);
    const one = await capture(() => outbox.run(['--show', mailId], env));
    expect(one.out).toContain('https://canopy.test/r?t=1');
    expect((await capture(() => outbox.run(['--to', 'nobody@example.com'], env))).out).toBe(
      'the outbox is empty',
    );
    expect((await capture(() => outbox.run(['--state', 'bogus'], env))).code).toBe(2);
  });
});
