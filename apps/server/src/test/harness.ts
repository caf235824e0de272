/** Builds a real app on a fresh database for tests (embedded SQLite unless a URL is given). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp, type App } from '../app.ts';
import { loadConfig, type Config } from '../config.ts';
import type { Clock } from '../platform/clock.ts';
import { createPlatform, type Platform } from '../platform/index.ts';

export interface TestApp {
  app: App;
  platform: Platform;
  config: Config;
  close(): Promise<void>;
}

export async function createTestApp(
  options: {
    env?: Record<string, string>;
    databaseUrl?: string;
    clock?: Clock;
    plugins?: ((app: FastifyInstance) => Promise<void>)[];
    /** A built web app to serve; none by default. */
    webAppDir?: string;
  } = {},
): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'canopy-app-'));
  const config = loadConfig({
    CANOPY_DATA_DIR: dataDir,
    CANOPY_LOG_LEVEL: 'silent',
    CANOPY_JOBS: 'false',
    CANOPY_MAIL_PRINT: 'false',
    ...(options.databaseUrl ? { CANOPY_DATABASE_URL: options.databaseUrl } : {}),
    ...options.env,
  });
  const platform = await createPlatform(config, {
    logger: pino({ level: 'silent' }),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const app = await buildApp(config, {
    platform,
    plugins: options.plugins ?? [],
    webAppDir: options.webAppDir ?? null,
  });
  return {
    app,
    platform,
    config,
    close: async () => {
      await app.close();
      await platform.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
