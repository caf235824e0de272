/**
 * Runs the service: read config, build the platform and the app, listen, and shut down gracefully on
 * SIGTERM/SIGINT (stop accepting, let requests in flight finish within the grace period, stop jobs, close
 * the database). Exported as `serve()` for the CLI and for tests that run a real process.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp, type App } from './app.ts';
import { describeConfig, type Config } from './config.ts';
import { createPlatform, type Platform } from './platform/index.ts';

export interface RunningServer {
  app: App;
  platform: Platform;
  url: string;
  shutdown(reason: string): Promise<void>;
}

export async function serve(
  config: Config,
  options: { plugins?: ((app: FastifyInstance) => Promise<void>)[]; handleSignals?: boolean } = {},
): Promise<RunningServer> {
  const platform = await createPlatform(config);
  const { logger } = platform;
  logger.info({ config: describeConfig(config) }, 'starting canopy');
  let app: App;
  try {
    app = await buildApp(config, { platform, plugins: options.plugins ?? [] });
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await platform.close();
    throw err;
  }
  if (config.runJobs) {
    // Every module has registered its retention policies while the app was built.
    await platform.retention.schedule();
    platform.jobs.start();
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `${config.tls ? 'https' : 'http'}://${config.host}:${port}`;

  let closing: Promise<void> | undefined;
  const shutdown = (reason: string) => {
    closing ??= (async () => {
      logger.info({ reason }, 'shutting down: no new connections; finishing requests in flight');
      const force = setTimeout(() => {
        logger.error({ graceMs: config.shutdownGraceMs }, 'grace period over: closing remaining connections');
        app.server.closeAllConnections();
      }, config.shutdownGraceMs);
      force.unref();
      // Keep-alive connections whose last request just finished would otherwise linger until their timeout.
      const reap = setInterval(() => app.server.closeIdleConnections(), 100);
      try {
        await app.close();
      } finally {
        clearTimeout(force);
        clearInterval(reap);
        await platform.close();
        logger.info('stopped');
        logger.flush();
      }
    })();
    return closing;
  };

  if (options.handleSignals !== false) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        shutdown(signal).then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      });
    }
  }
  return { app, platform, url, shutdown };
}
