/**
 * Edits made offline survive a reload: the editor keeps a copy of the map in IndexedDB, a reload while the server
 * cannot be reached opens the map from it (with the edit), and once the server can be reached again the edit is
 * sent and stored. Signing out clears the copies. Writes test-output/editor-offline-reload.png (the reopened map
 * with the note that the edits from the last visit will be sent).
 *
 * A page cannot be reloaded while the browser is offline (the app has no service worker), so the reload happens
 * with the map's socket unreachable instead: every collab ticket request fails, as with a server that is down.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  REPO_ROOT,
  signInThroughUi,
  signOutThroughUi,
  signUpAndVerify,
  uniqueEmail,
  type CanopyServer,
  type LocalBrowser,
  useCanopyWithBrowser,
} from './support/index.ts';

const PASSWORD = 'correct horse battery';
const TICKETS = '**/api/v1/maps/*/collab-ticket';
const OUTPUT = join(REPO_ROOT, 'test-output');

const indicator = (page: Page) => page.getByRole('status').filter({ hasText: /^(Saved|Syncing…|Offline)$/ });
const lastVisitNote = (page: Page) => page.getByRole('status').filter({ hasText: /from your last visit/ });

/** The local copies' metadata as the app stored it (a string script: the e2e tree has no DOM types). */
function storedCopies(page: Page): Promise<{ pending: boolean; bytes: number }[]> {
  return page.evaluate(`(async () => {
    const names = (await indexedDB.databases()).map((d) => d.name);
    if (!names.includes('canopy-local-copies')) return [];
    return await new Promise((resolve, reject) => {
      const open = indexedDB.open('canopy-local-copies');
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const db = open.result;
        const all = db.transaction('meta').objectStore('meta').getAll();
        all.onerror = () => reject(all.error);
        all.onsuccess = () => {
          db.close();
          resolve(all.result.map((m) => ({ pending: m.pending, bytes: m.bytes })));
        };
      };
    });
  })()`);
}

describe('offline edits survive a reload, against a real Canopy process', () => {
  let server: CanopyServer;
  let browser: LocalBrowser;
  useCanopyWithBrowser((started) => ({ server, browser } = started));

  it('keeps a topic added offline over a reload with the server unreachable, and sends it once it is back', async () => {
    const ada = await signUpAndVerify(server, uniqueEmail('offline'), PASSWORD, 'Ada Lovelace');
    const map = await ada.api.call<{ id: string }>('POST', '/maps', { title: 'Field notes' }, 201);
    const document = () =>
      ada.api.call<{ root: { children: { text: string }[] } }>('GET', `/maps/${map.id}/document`);

    const { page } = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.setViewportSize({ width: 900, height: 640 });
    await signInThroughUi(page, server.url, ada);
    await page.goto(`${server.url}/maps/${map.id}`);
    await page.getByRole('tree').waitFor();
    await expect.poll(() => indicator(page).textContent(), { timeout: 15_000 }).toBe('Saved');

    // Offline: the edit stays in the tab, and in this browser's copy of the map.
    await page.context().setOffline(true);
    await expect.poll(() => indicator(page).textContent()).toBe('Offline');
    await page.getByRole('tree').focus();
    await page.keyboard.press('Tab');
    const field = page.getByRole('textbox', { name: 'Topic text' });
    await field.fill('Written before the reload');
    await field.press('Enter');
    await field.waitFor({ state: 'detached' });
    await expect.poll(() => storedCopies(page), { timeout: 10_000 }).toMatchObject([{ pending: true }]);

    // The server stays unreachable for the map's socket; the page itself reloads.
    await page.route(TICKETS, (route) => route.abort('connectionrefused'));
    await page.context().setOffline(false);
    await page.reload();
    await page.getByRole('treeitem', { name: 'Written before the reload', exact: true }).waitFor();
    await lastVisitNote(page).waitFor();
    await expect.poll(() => indicator(page).textContent()).toBe('Offline');
    expect(await lastVisitNote(page).textContent()).toMatch(/will be sent once you are back online/);
    expect((await document()).root.children).toEqual([]);
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, 'editor-offline-reload.png') });

    // Back: the edit reaches the server and the note goes away.
    await page.unroute(TICKETS);
    // The browser's online event reconnects at once rather than after the backoff.
    await page.context().setOffline(true);
    await page.context().setOffline(false);
    await expect.poll(() => indicator(page).textContent(), { timeout: 15_000 }).toBe('Saved');
    await expect.poll(() => lastVisitNote(page).count()).toBe(0);
    expect((await document()).root.children.map((t) => t.text)).toEqual(['Written before the reload']);
    await expect.poll(() => storedCopies(page), { timeout: 10_000 }).toMatchObject([{ pending: false }]);

    // Signing out forgets the copies.
    await page.goto(`${server.url}/maps`);
    await signOutThroughUi(page);
    expect(await storedCopies(page)).toEqual([]);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
