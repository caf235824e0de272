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

export interface LocalBrowser {
  browser: Browser;
  /** A fresh context (its own cookies and storage: one person) with the same-origin guard, and its first page. */
  newPage(): Promise<{ context: BrowserContext; page: Page }>;
  /** URLs of requests that were blocked because they left `origin` (and were not data: or blob:). */
  blockedRequests: string[];
  close(): Promise<void>;
}

/**
 * A browser that may talk to one local origin (a Canopy started by e2e/support/server.ts) and nothing else: every
 * other request is blocked and recorded, so a page that reached out to the internet fails its test.
 */
export async function launchLocalBrowser(origin: string): Promise<LocalBrowser> {
  const allowed = new URL(origin).origin;
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const blockedRequests: string[] = [];
  return {
    browser,
    blockedRequests,
    async newPage() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      await context.route('**/*', async (route) => {
        const url = route.request().url();
        if (url.startsWith('data:') || url.startsWith('blob:') || new URL(url).origin === allowed) {
          await route.continue();
        } else {
          blockedRequests.push(url);
          await route.abort('blockedbyclient');
        }
      });
      const page = await context.newPage();
      page.on('websocket', (ws) => {
        if (new URL(ws.url()).host !== new URL(allowed).host) blockedRequests.push(ws.url());
      });
      return { context, page };
    },
    close: () => browser.close(),
  };
}

export type { Browser };
