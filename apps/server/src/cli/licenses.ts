/** `canopy licenses issue|list|suspend|reinstate|extend`: the operator's licence commands, straight on the database. */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { CliCommand } from '../cli.ts';
import { loadConfig } from '../config.ts';
import { systemClock } from '../platform/clock.ts';
import { openDatabase } from '../platform/db/connect.ts';
import { AppError } from '../platform/errors.ts';
import { createLicensingService, type LicensingService } from '../modules/licensing/index.ts';

type View = Awaited<ReturnType<LicensingService['licences']['list']>>[number];

async function withService(
  env: NodeJS.ProcessEnv,
  fn: (service: LicensingService) => Promise<void>,
): Promise<number> {
  const config = loadConfig(env);
  const database = openDatabase(config.databaseUrl, { poolSize: 1 });
  const logger = pino({ level: 'warn' });
  const service = createLicensingService({
    database,
    clock: systemClock,
    logger,
    publicUrl: config.publicUrl,
    ports: {
      caller: async () => undefined,
      validationCaller: async () => undefined,
      signer: {
        sign: () => Promise.reject(new Error('the CLI signs no licence tokens')),
        jwks: async () => ({ keys: [] }),
      },
      mailer: { send: async () => {} },
      // The CLI does not load the identity module: org ids are taken as given (check them with the admin API).
      orgs: { adminEmails: async () => [], orgExists: async () => true },
    },
  });
  try {
    await fn(service);
    return 0;
  } catch (err) {
    if (err instanceof AppError) {
      console.error(`canopy licenses: ${err.message} (${err.code})`);
      return 1;
    }
    throw err;
  } finally {
    await database.close();
  }
}

function line(l: View): string {
  return [
    l.id,
    l.key,
    l.orgId,
    l.status,
    `${l.usedSeats}/${l.seats}`,
    l.products.join(','),
    l.expiresAt ?? 'never',
  ].join('\t');
}

function date(value: string, flag: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new AppError(400, 'validation_failed', `${flag}: not a date (${value})`);
  return new Date(ms).toISOString();
}

export const commands: CliCommand[] = [
  {
    name: 'licenses issue',
    summary: 'Issue a licence to an org',
    usage:
      'canopy licenses issue --org ORG --products p1,p2 --seats N [--expires DATE] [--policy ID]\n\n' +
      '  Products: desktop-windows, desktop-mac, mobile, teams, snap, reader. Without --expires the policy\n' +
      "  decides (the default 'standard' policy: one year). Prints the licence id and key.",
    async run(args, env) {
      const { values } = parseArgs({
        args,
        options: {
          org: { type: 'string' },
          products: { type: 'string' },
          seats: { type: 'string' },
          expires: { type: 'string' },
          policy: { type: 'string' },
        },
      });
      const seats = Number(values.seats);
      if (!values.org || !values.products || !Number.isInteger(seats) || seats < 1) {
        console.error(
          'canopy licenses issue: --org, --products and --seats (a positive integer) are required',
        );
        return 2;
      }
      return withService(env, async (service) => {
        const issued = await service.licences.issue({
          orgId: values.org as string,
          products: (values.products as string)
            .split(',')
            .map((p) => p.trim())
            .filter(Boolean),
          seats,
          ...(values.expires ? { expiresAt: date(values.expires, '--expires') } : {}),
          ...(values.policy ? { policy: values.policy } : {}),
        });
        console.log(`issued ${issued.id}\nkey ${issued.key}`);
      });
    },
  },
  {
    name: 'licenses list',
    summary: 'List licences (id, key, org, status, used/seats, products, expiry)',
    usage: 'canopy licenses list [--org ORG] [--json]',
    async run(args, env) {
      const { values } = parseArgs({ args, options: { org: { type: 'string' }, json: { type: 'boolean' } } });
      return withService(env, async (service) => {
        const list = await service.licences.list(values.org);
        if (values.json) console.log(JSON.stringify(list, null, 2));
        else for (const l of list) console.log(line(l));
      });
    },
  },
  {
    name: 'licenses suspend',
    summary: 'Suspend a licence (validation answers SUSPENDED)',
    usage: 'canopy licenses suspend <id|key>',
    async run(args, env) {
      const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
      if (!positionals[0]) return 2;
      return withService(env, async (service) =>
        console.log(line(await service.licences.suspend(positionals[0] as string))),
      );
    },
  },
  {
    name: 'licenses reinstate',
    summary: 'Lift a licence’s suspension',
    usage: 'canopy licenses reinstate <id|key>',
    async run(args, env) {
      const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
      if (!positionals[0]) return 2;
      return withService(env, async (service) =>
        console.log(line(await service.licences.reinstate(positionals[0] as string))),
      );
    },
  },
  {
    name: 'licenses extend',
    summary: 'Move a licence’s expiry',
    usage:
      'canopy licenses extend <id|key> (--until DATE | --days N | --never)\n\n  --days N counts from the later of now and the current expiry.',
    async run(args, env) {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: { until: { type: 'string' }, days: { type: 'string' }, never: { type: 'boolean' } },
      });
      const id = positionals[0];
      if (!id || [values.until, values.days, values.never].filter((v) => v !== undefined).length !== 1) {
        console.error('canopy licenses extend: give the licence and exactly one of --until, --days, --never');
        return 2;
      }
      return withService(env, async (service) => {
        let expiresAt: number | null = null;
        if (values.until) expiresAt = Date.parse(date(values.until, '--until'));
        else if (values.days) {
          const days = Number(values.days);
          if (!Number.isInteger(days) || days < 1)
            throw new AppError(400, 'validation_failed', '--days: a positive integer');
          const current = await service.licences.get(id);
          const from = Math.max(Date.now(), current.expiresAt ? Date.parse(current.expiresAt) : 0);
          expiresAt = from + days * 86_400_000;
        }
        console.log(line(await service.licences.extend(id, expiresAt)));
      });
    },
  },
];
