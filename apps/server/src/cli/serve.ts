import { parseArgs } from 'node:util';
import type { CliCommand } from '../cli.ts';
import { loadConfig } from '../config.ts';
import { serve } from '../main.ts';

export const command: CliCommand = {
  name: 'serve',
  summary: 'Run the Canopy service (migrates the database first)',
  usage:
    'canopy serve [--port N] [--host H]\n\n  --port N   listen on port N (CANOPY_PORT, default 8080)\n  --host H   listen on address H (CANOPY_HOST, default 127.0.0.1)',
  async run(args, env) {
    const { values } = parseArgs({ args, options: { port: { type: 'string' }, host: { type: 'string' } } });
    const config = loadConfig({
      ...env,
      ...(values.port ? { CANOPY_PORT: values.port } : {}),
      ...(values.host ? { CANOPY_HOST: values.host } : {}),
    });
    const server = await serve(config);
    const pub = config.publicUrl;
    console.log(`Canopy is serving ${server.url}${pub !== server.url ? ` (public URL ${pub})` : ''}`);
    console.log(
      `  data: ${config.dataDir}  database: ${server.platform.database.dialect}  API docs: ${server.url}/api/docs`,
    );
  },
};
