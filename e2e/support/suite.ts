import { afterAll, beforeAll } from 'vitest';
import { launchLocalBrowser, type LocalBrowser } from '../browser.ts';
import { startCanopy, type CanopyServer, type StartOptions } from './server.ts';

export interface CanopyWithBrowser {
  server: CanopyServer;
  browser: LocalBrowser;
}

/**
 * One real Canopy process and one browser for the describe block that calls this: started before its tests (ahead
 * of the block's own beforeAll hooks registered after this call), closed and stopped after them. `ready` receives
 * both, so a suite keeps its own `server` and `browser` variables.
 */
export function useCanopyWithBrowser(
  ready: (started: CanopyWithBrowser) => void,
  options?: StartOptions,
): void {
  let started: Partial<CanopyWithBrowser> = {};
  beforeAll(async () => {
    const server = await startCanopy(options);
    started = { server };
    const browser = await launchLocalBrowser(server.url);
    started = { server, browser };
    ready({ server, browser });
  });
  afterAll(async () => {
    await started.browser?.close();
    await started.server?.stop();
  });
}
