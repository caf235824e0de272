/** `canopy keys rotate` and `canopy keys status`: root-key rotation and tenant data-key rotation (docs/security.md). */
import { parseArgs } from 'node:util';
import type { CliCommand } from '../cli.ts';
import { loadConfig } from '../config.ts';
import { systemClock } from '../platform/clock.ts';
import { createCrypto } from '../platform/crypto/index.ts';
import { openDatabase } from '../platform/db/connect.ts';
import { withSystemContext } from '../platform/db/tenant.ts';
import { JobQueue } from '../platform/jobs/queue.ts';
import { createLogger } from '../platform/log.ts';

function open(env: NodeJS.ProcessEnv) {
  const config = loadConfig(env);
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const database = openDatabase(config.databaseUrl, { poolSize: 2 });
  const jobs = new JobQueue(database, systemClock, logger);
  const crypto = createCrypto({ dataDir: config.dataDir }, { database, clock: systemClock, logger, jobs });
  return { config, database, crypto };
}

const rotate: CliCommand = {
  name: 'keys rotate',
  summary: 'Add a root key version and re-wrap every tenant key (or rotate one tenant data key)',
  usage: [
    'canopy keys rotate [--batch-size N]',
    'canopy keys rotate --tenant <tenant id>',
    '',
    '  Without --tenant: adds a version to the keyring (CANOPY_DATA_DIR/keyring.json) and re-wraps every tenant',
    '  data key with it, recording progress in the database. If it is interrupted, run it again: it finishes the',
    '  same rotation instead of starting another. Back up the keyring file afterwards, and copy it to every node.',
    '  --tenant: gives that tenant a new data key for new writes and queues the job that re-encrypts its data',
    '  and then destroys the old key; a server node runs the job once every node has seen the new key.',
  ].join('\n'),
  async run(args, env) {
    const { values } = parseArgs({
      args,
      options: { tenant: { type: 'string' }, 'batch-size': { type: 'string' } },
    });
    const { database, crypto } = open(env);
    try {
      if (values.tenant) {
        const r = await crypto.dataKeys.rotate(values.tenant);
        console.log(
          `tenant ${values.tenant}: data key version ${r.to} is now used for new writes${r.from ? ` (was ${r.from})` : ''}`,
        );
        console.log(
          `re-encryption job queued (crypto.reencrypt_tenant); it runs on a server node in about ${Math.ceil(crypto.keys.cacheTtlMs / 1000) + 1} s`,
        );
        return 0;
      }
      const batchSize = values['batch-size'] ? Number(values['batch-size']) : undefined;
      if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize > 0)) {
        console.error('--batch-size must be a positive integer');
        return 2;
      }
      const r = await crypto.rotateRootKey({
        ...(batchSize ? { batchSize } : {}),
        onProgress: (n) => process.stderr.write(`\rre-wrapped ${n} tenant keys`),
      });
      process.stderr.write('\n');
      console.log(
        `root key version ${r.kekVersion} is current${r.resumed ? ' (finished an interrupted rotation)' : ''}; re-wrapped ${r.rewrapped} tenant keys`,
      );
      if (r.retiredVersions.length)
        console.log(
          `retired root key versions ${r.retiredVersions.join(', ')} (kept in the keyring so that older backups stay readable)`,
        );
      console.log('Back up the keyring file now, and give every node the new copy.');
      return 0;
    } finally {
      await database.close();
    }
  },
};

const status: CliCommand = {
  name: 'keys status',
  summary: 'Show root key versions, which versions wrap tenant keys, and rotations in progress',
  usage: 'canopy keys status',
  async run(args, env) {
    parseArgs({ args, options: {} });
    const { database, crypto } = open(env);
    try {
      const versions = await crypto.rootKeys.listVersions();
      const current = await crypto.rootKeys.currentVersion();
      const usage = await withSystemContext(database, 'keys status', (trx) =>
        trx
          .selectFrom('tenant_data_keys')
          .select(['kek_version'])
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('wrapped_key', 'is not', null)
          .groupBy('kek_version')
          .execute(),
      );
      const running = await withSystemContext(database, 'keys status', (trx) =>
        trx
          .selectFrom('crypto_rotations')
          .selectAll()
          .where('state', '=', 'running')
          .orderBy('started_at')
          .execute(),
      );
      console.log(`keyring: ${crypto.rootKeys.kind}`);
      for (const v of versions) {
        const n = Number(usage.find((u) => Number(u.kek_version) === v.version)?.n ?? 0);
        console.log(
          `  v${v.version}${v.version === current ? ' (current)' : ''}  created ${v.createdAt}${v.retiredAt ? `  retired ${v.retiredAt}` : ''}  wraps ${n} tenant keys`,
        );
      }
      if (!running.length) console.log('no rotation in progress');
      for (const r of running) {
        console.log(
          `  in progress: ${r.kind === 'kek' ? 'root key' : `tenant ${r.tenant_id ?? ''} data key`} → v${r.to_version}, ${r.processed} done, started ${new Date(Number(r.started_at)).toISOString()}`,
        );
      }
      return 0;
    } finally {
      await database.close();
    }
  },
};

export const commands: CliCommand[] = [rotate, status];
