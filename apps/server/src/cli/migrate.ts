import { parseArgs } from 'node:util';
import type { CliCommand } from '../cli.ts';
import { loadConfig } from '../config.ts';
import { openDatabase } from '../platform/db/connect.ts';
import { migrateToLatest } from '../platform/db/migrator.ts';

export const command: CliCommand = {
  name: 'migrate',
  summary: 'Bring the database schema up to date (safe while other nodes start)',
  usage:
    'canopy migrate\n\n  Applies every pending migration to CANOPY_DATABASE_URL and prints what it applied.',
  async run(args, env) {
    parseArgs({ args, options: {} });
    const config = loadConfig(env);
    const database = openDatabase(config.databaseUrl, { poolSize: 1 });
    try {
      const result = await migrateToLatest(database);
      const applied = result.results?.filter((r) => r.status === 'Success').map((r) => r.migrationName) ?? [];
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'the database is up to date');
    } finally {
      await database.close();
    }
  },
};
