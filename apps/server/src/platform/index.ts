/**
 * The platform: the ports every module uses (database, jobs, clock, logging; crypto, blobs, mail and pub/sub
 * join them in their own files). Created once per process, passed to buildApp, closed on shutdown.
 */
import { mkdirSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { systemClock, type Clock } from './clock.ts';
import { openDatabase, type Database } from './db/connect.ts';
import { redisDriver } from './drivers.ts';
import { migrateToLatest } from './db/migrator.ts';
import { JobQueue } from './jobs/queue.ts';
import { createLogger } from './log.ts';
import { createBlobStores, type BlobStores } from './blobs/index.ts';
import { createCrypto, linkKeyCacheToPubSub, type CryptoPort } from './crypto/index.ts';
import { createMailer, mailOutboxRetention, type Mailer } from './mail/index.ts';
import { createPubSub, type PubSub } from './pubsub/index.ts';
import { createRetention, type Retention } from './retention/index.ts';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface Platform {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly database: Database;
  readonly jobs: JobQueue;
  /** Present when CANOPY_REDIS_URL is set: rate limits and fan-out between nodes. */
  readonly redis: Redis | undefined;
  /** Envelope encryption (cipher, blind index), tenant keys and their rotation, signing keys. */
  readonly crypto: CryptoPort;
  /** Encrypted blob stores: `blobs.default`, and `blobs.region(name)`. */
  readonly blobs: BlobStores;
  /** Fan-out between nodes: Redis when configured, else in-process. */
  readonly pubsub: PubSub;
  /** Templated mail through the outbox, sent by a retried job. */
  readonly mail: Mailer;
  /** Purge policies (register, then `retention.schedule()`), and read-side cutoffs. */
  readonly retention: Retention;
  /** What /readyz checks. */
  readonly readiness: ReadinessCheck[];
  close(): Promise<void>;
}

export interface PlatformOverrides {
  clock?: Clock;
  logger?: Logger;
  /** Skip migrating at start (the default migrates; `canopy migrate` exists for operators who prefer to). */
  migrate?: boolean;
}

export async function createPlatform(config: Config, overrides: PlatformOverrides = {}): Promise<Platform> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const clock = overrides.clock ?? systemClock;
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const database = openDatabase(config.databaseUrl, {
    sqliteCacheMiB: config.sqliteCacheMiB,
    // A server runs long: its checkpoint thread starts with it.
    checkpointAfterMs: 0,
    onCheckpointError: (err) =>
      logger.error({ err }, 'sqlite: the WAL checkpoint thread failed; commits checkpoint by themselves'),
  });
  const closers: (() => Promise<void>)[] = [() => database.close()];
  try {
    await assertSafeDatabaseRole(database, logger);
    if (overrides.migrate !== false) {
      const result = await migrateToLatest(database);
      const applied = result.results?.filter((r) => r.status === 'Success').map((r) => r.migrationName) ?? [];
      if (applied.length) logger.info({ applied }, 'database migrated');
    }
    const redis = config.redisUrl
      ? new (redisDriver().Redis)(config.redisUrl, {
          lazyConnect: true,
          maxRetriesPerRequest: 2,
          enableOfflineQueue: false,
        })
      : undefined;
    if (redis) {
      await redis.connect();
      closers.unshift(async () => void (await redis.quit()));
    }
    const jobs = new JobQueue(database, clock, logger);
    const crypto = createCrypto({ dataDir: config.dataDir }, { database, clock, logger, jobs });
    const blobs = createBlobStores(
      { blobUrl: config.blobUrl, regions: config.blobRegions },
      { keys: crypto.keys, logger },
    );
    closers.unshift(() => blobs.close());
    for (const store of blobs.all()) crypto.dataKeys.register(store.asDataKeyUser());
    const pubsub = await createPubSub({ redisUrl: config.redisUrl }, { logger });
    closers.unshift(() => pubsub.close());
    // A node that rotates, retires or shreds a tenant key tells the others to drop their cached copy.
    const unlinkKeyCache = await linkKeyCacheToPubSub(crypto.keys, pubsub, logger);
    closers.unshift(unlinkKeyCache);
    const printMail = !config.smtpUrl && config.mailPrint;
    const mail = createMailer(
      {
        from: config.mailFrom,
        smtpUrl: config.smtpUrl,
        print: printMail ? (text) => void process.stdout.write(text) : undefined,
      },
      { database, cipher: crypto.cipher, jobs, clock, logger },
    );
    closers.unshift(() => mail.close());
    const retention = createRetention({ database, jobs, clock, logger });
    // Modules register their own policies while the app is built; serve() schedules them all afterwards.
    retention.register(mailOutboxRetention(database));
    const readiness: ReadinessCheck[] = [{ name: 'database', check: () => database.ping() }];
    if (redis) readiness.push({ name: 'redis', check: async () => void (await redis.ping()) });
    readiness.push({ name: 'blobs', check: () => blobs.ping() });
    return {
      config,
      clock,
      logger,
      database,
      jobs,
      redis,
      crypto,
      blobs,
      pubsub,
      mail,
      retention,
      readiness,
      close: async () => {
        await jobs.stop();
        for (const close of closers) await close();
      },
    };
  } catch (err) {
    for (const close of closers) await close().catch(() => {});
    throw err;
  }
}

/** On PostgreSQL, row-level security is a wall only if the app's role cannot bypass it. */
async function assertSafeDatabaseRole(database: Database, logger: Logger): Promise<void> {
  if (database.dialect !== 'postgres') return;
  const { sql } = await import('kysely');
  const { rows } = await sql<{ rolsuper: boolean; rolbypassrls: boolean; rolname: string }>`
    select rolname, rolsuper, rolbypassrls from pg_roles where rolname = current_user`.execute(database.db);
  const role = rows[0];
  if (role && (role.rolsuper || role.rolbypassrls)) {
    logger.warn(
      { role: role.rolname },
      'the database role is a superuser or has BYPASSRLS: row-level security (the second tenancy wall) is off; connect as an ordinary role',
    );
  }
}
