/**
 * The editor against a real Canopy process: a map created in the app and built by keyboard is saved as it is
 * edited (co-editing socket, durable acks), and is still there after a reload.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  signInThroughUi,
  signUpAndVerify,
  uniqueEmail,
  type CanopyServer,
  type LocalBrowser,
  useCanopyWithBrowser,
} from './support/index.ts';

const PASSWORD = 'correct horse battery';

/** Types a topic's text into the in-place field the editor opened, and commits it with Enter. */
async function typeTopic(page: Page, text: string): Promise<void> {
  const field = page.getByRole('textbox', { name: 'Topic text' });
  await field.waitFor();
  await field.fill(text);
  await field.press('Enter');
  await field.waitFor({ state: 'detached' });
}

describe('the editor, against a real Canopy process', () => {
  let server: CanopyServer;
  let browser: LocalBrowser;
  useCanopyWithBrowser((started) => ({ server, browser } = started));

  it('creates a map, builds topics by keyboard (Tab child, Enter sibling, typing), and keeps them over a reload', async () => {
    const account = await signUpAndVerify(server, uniqueEmail('kbd'), PASSWORD, 'Grace Hopper');
    const { page } = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await signInThroughUi(page, server.url, account);

    await page.getByLabel('New map title').fill('Keyboard plan');
    await page.getByRole('button', { name: 'Create map' }).click();
    const tree = page.getByRole('tree', { name: 'Map: Keyboard plan' });
    await tree.waitFor();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved' }).count()).toBe(1);

    await tree.focus();
    await page.keyboard.press('Tab');
    await typeTopic(page, 'Research');
    await page.keyboard.press('Enter');
    await typeTopic(page, 'Design');
    await page.keyboard.press('Enter');
    await typeTopic(page, 'Launch');
    await page.keyboard.press('Tab');
    await typeTopic(page, 'Milestones');
    // Undo takes back "create, then name" as one step (the selection falls back to the central topic, whose
    // children the tree then lists: "Launch" is left without children); redo brings it back.
    const launch = page.getByRole('treeitem', { name: 'Launch', exact: true });
    await page.keyboard.press('Control+z');
    await expect.poll(() => launch.getAttribute('aria-expanded')).toBeNull();
    await page.keyboard.press('Control+y');
    await expect.poll(() => launch.getAttribute('aria-expanded')).toBe('true');
    // Typing straight onto the map replaces the selected topic's text.
    await page.keyboard.press('Home');
    await page.keyboard.press('Escape');
    await page.keyboard.type('Plan');
    await page.getByRole('textbox', { name: 'Topic text' }).press('Enter');

    const indicator = page.getByRole('status').filter({ hasText: /Saved|Syncing|Offline/ });
    await expect.poll(() => indicator.textContent(), { timeout: 10_000 }).toBe('Saved');
    const mapId = new URL(page.url()).pathname.split('/').pop()!;

    await page.reload();
    await page.getByRole('tree', { name: 'Map: Keyboard plan' }).waitFor();
    for (const name of ['Research', 'Design', 'Launch']) {
      await page.getByRole('treeitem', { name, exact: true }).waitFor();
    }
    const doc = await account.api.call<{
      root: { text: string; children: { text: string; children: { text: string }[] }[] };
    }>('GET', `/maps/${mapId}/document`);
    expect(doc.root.text).toBe('Plan');
    expect(doc.root.children.map((c) => c.text)).toEqual(['Research', 'Design', 'Launch']);
    expect(doc.root.children[2]!.children.map((c) => c.text)).toEqual(['Milestones']);
    expect(errors).toEqual([]);
    expect(browser.blockedRequests).toEqual([]);
  });
});
