/**
 * A real Canopy process with one extra slow route, for the graceful-shutdown test: run with tsx, it prints
 * its URL on stdout, then serves until it gets a signal.
 */
import { loadConfig } from '../config.ts';
import { serve } from '../main.ts';

const config = loadConfig({ ...process.env, CANOPY_PORT: '0', CANOPY_LOG_LEVEL: 'warn' });
const server = await serve(config, {
  plugins: [
    async (app) => {
      app.get('/slow', { config: { access: 'public' } }, async () => {
        await new Promise((r) => setTimeout(r, 1_500));
        return { finished: true };
      });
    },
  ],
});
console.log(`URL ${server.url}`);
