/**
 * Shared launcher for browser scenarios: Debian's Chromium (never a downloaded browser), headless, with a fresh
 * profile and every background network feature off, plus a guard that blocks and records any request that is
 * not file: or data:, so a test can assert that a page made no network access at all.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CANOPY_CHROMIUM ?? '/usr/bin/chromium';

/** Headless, no sandbox (root in CI), and no background network features (the machine has no network). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface LaunchedBrowser {
  context: BrowserContext;
  page: Page;
  /** URLs of requests that were blocked because they were neither file: nor data:. */
  blockedRequests: string[];
  close(): Promise<void>;
}

export async function launchOfflineBrowser(): Promise<LaunchedBrowser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'canopy-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
    offline: true,
  });
  const blockedRequests: string[] = [];
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) {
      await route.continue();
    } else {
      blockedRequests.push(url);
      await route.abort('blockedbyclient');
    }
  });
  const page = context.pages()[0] ?? (await context.newPage());
  // WebSockets bypass context.route: record them too (the context is offline, so they cannot connect).
  page.on('websocket', (ws) => blockedRequests.push(ws.url()));
  return {
    context,
    page,
    blockedRequests,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export type { Browser };
