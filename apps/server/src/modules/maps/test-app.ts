/**
 * Builds a real app (like test/harness.ts) with the maps and collab ports set, and keeps the AppDeps so tests
 * can reach the module instances. `listen` makes it serve on a random port for socket tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildApp, type App, type AppDeps } from '../../app.ts';
import { loadConfig, type Config } from '../../config.ts';
import type { Clock } from '../../platform/clock.ts';
import { createPlatform, type Platform } from '../../platform/index.ts';

export interface ModuleTestApp {
  app: App;
  platform: Platform;
  config: Config;
  deps: AppDeps;
  /** http://127.0.0.1:<port> once listening. */
  url: string;
  close(): Promise<void>;
}

export async function createModuleTestApp(
  options: {
    databaseUrl?: string;
    env?: Record<string, string>;
    listen?: boolean;
    /** Shared by several nodes of one deployment (the keyring lives there); default a fresh directory. */
    dataDir?: string;
    /** The platform's clock (default: the system clock). */
    clock?: Clock;
  } & Omit<Partial<AppDeps>, 'platform'>,
): Promise<ModuleTestApp> {
  const { databaseUrl, env, listen, dataDir: sharedDir, clock, ...extra } = options;
  const dataDir = sharedDir ?? mkdtempSync(join(tmpdir(), 'canopy-maps-'));
  const config = loadConfig({
    CANOPY_DATA_DIR: dataDir,
    CANOPY_LOG_LEVEL: 'silent',
    CANOPY_JOBS: 'false',
    ...(databaseUrl ? { CANOPY_DATABASE_URL: databaseUrl } : {}),
    ...env,
  });
  const platform = await createPlatform(config, {
    logger: pino({ level: 'silent' }),
    ...(clock ? { clock } : {}),
  });
  const deps: AppDeps = { platform, ...extra };
  const app = await buildApp(config, deps);
  let url = '';
  if (listen) {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }
  return {
    app,
    platform,
    config,
    deps,
    url,
    close: async () => {
      await app.close();
      await platform.close();
      if (!sharedDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
