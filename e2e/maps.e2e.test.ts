/**
 * The map list in the browser against a real Canopy process: import the MindManager fixture by dropping it on
 * the page and see its topics in the editor (with a screenshot), manage a map (create, rename, export, delete),
 * clear import errors, and share a map with a person of the organisation who then sees it in their list.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { importMap } from '../packages/formats/src/index.ts';
import {
  REPO_ROOT,
  linkFrom,
  signInThroughUi,
  signUpAndVerify,
  uniqueEmail,
  type CanopyServer,
  type LocalBrowser,
  useCanopyWithBrowser,
} from './support/index.ts';

const PASSWORD = 'correct horse battery';
const OUTPUT = join(REPO_ROOT, 'test-output');
/** The shared fixtures sit beside the repository (../shared), as packages/formats' tests read them. */
const MMAP_FIXTURE = join(REPO_ROOT, '..', 'shared', 'fixtures', 'mindmanager', 'test-2017-mm16.mmap');

/** Drops a file on the import zone the way a file dragged from the desktop arrives (a DataTransfer with a File). */
async function dropFile(page: Page, name: string, bytes: Uint8Array): Promise<void> {
  // A string, because this runs in the page (the e2e project is typed for Node, without the DOM lib).
  const dataTransfer = await page.evaluateHandle(`(() => {
    const data = Uint8Array.from(atob(${JSON.stringify(Buffer.from(bytes).toString('base64'))}), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([data], ${JSON.stringify(name)}));
    return transfer;
  })()`);
  const zone = page.getByTestId('import-zone');
  await zone.dispatchEvent('dragenter', { dataTransfer });
  await zone.dispatchEvent('dragover', { dataTransfer });
  await zone.dispatchEvent('drop', { dataTransfer });
}

describe('the map list in the browser, against a real Canopy process', () => {
  let server: CanopyServer;
  let browser: LocalBrowser;
  useCanopyWithBrowser((started) => ({ server, browser } = started));

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
  });

  it('imports the MindManager fixture dropped on the list, opens it and shows its topics', async () => {
    const bytes = new Uint8Array(readFileSync(MMAP_FIXTURE));
    const expected = importMap(bytes, { filename: 'test-2017-mm16.mmap' }).document;
    const ada = await signUpAndVerify(server, uniqueEmail('ada'), PASSWORD, 'Ada Lovelace');
    const { page } = await browser.newPage();
    await signInThroughUi(page, server.url, ada);

    // A slow uplink (about 3 s for the fixture), so the progress bar can be seen moving.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 10 * 1024,
    });
    await dropFile(page, 'test-2017-mm16.mmap', bytes);
    const progress = page.getByRole('progressbar');
    await progress.waitFor();
    // Part of the file sent, not all of it: the bar reports real upload progress.
    await expect
      .poll(
        async () => {
          const sent = Number(await progress.getAttribute('value'));
          return sent > 0 && sent < 100;
        },
        { timeout: 10_000 },
      )
      .toBe(true);
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    const imported = page.getByRole('status').filter({ hasText: 'Imported' });
    await imported.waitFor();
    await expect(imported.textContent()).resolves.toContain(`Imported ${expected.title}`);

    await page.getByRole('link', { name: expected.title }).click();
    const tree = page.getByRole('tree');
    await tree.waitFor();
    // The accessible tree names the selected central topic and its main topics.
    const items = tree.getByRole('treeitem');
    await expect
      .poll(() => items.allTextContents())
      .toEqual([expected.root.text, ...expected.root.children.map((c) => c.text)]);
    await expect(tree.getByRole('treeitem', { selected: true }).textContent()).resolves.toBe(
      expected.root.text,
    );
    // A main topic's own subtopics come into the tree when it is selected (keyboard: → from the centre).
    const first = expected.root.children[0]!;
    await tree.focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => tree.getByRole('treeitem', { selected: true }).textContent()).toBe(first.text);
    const texts = await items.allTextContents();
    for (const child of first.children) expect(texts).toContain(child.text);
    await page.keyboard.press('Home');
    await page.screenshot({ path: join(OUTPUT, 'editor-fixture.png') });
    expect(browser.blockedRequests).toEqual([]);
    await page.context().close();
  });

  it('creates, renames, exports and (after confirming) deletes a map, and explains a failed import', async () => {
    const grace = await signUpAndVerify(server, uniqueEmail('grace'), PASSWORD, 'Grace Hopper');
    const { page } = await browser.newPage();
    await signInThroughUi(page, server.url, grace);

    await page.getByLabel('New map title').fill('Trip');
    await page.getByRole('button', { name: 'Create map' }).click();
    // Creating opens the new map in the editor.
    await page.waitForURL(/\/maps\/[^/]+$/);
    await page.goto(`${server.url}/maps`);
    await page.getByRole('link', { name: 'Trip' }).waitFor();

    await page.getByRole('button', { name: 'Rename Trip' }).click();
    await page.getByLabel('New title for Trip').fill('Holiday');
    await page.getByRole('button', { name: 'Save title' }).click();
    await page.getByRole('link', { name: 'Holiday' }).waitFor();

    // Every format the API exports, each downloaded under the map's name.
    await page.getByRole('button', { name: 'Export Holiday' }).click();
    const formats = await page
      .getByLabel('Format')
      .locator('option')
      .evaluateAll((options) => options.map((o) => (o as unknown as { value: string }).value));
    expect(formats).toEqual(['mmap', 'xmind', 'mm', 'opml', 'md', 'json', 'html']);
    for (const format of formats) {
      await page.getByLabel('Format').selectOption(format);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Download' }).click(),
      ]);
      expect(download.suggestedFilename()).toBe(`Holiday.${format}`);
      const saved = readFileSync((await download.path()) ?? '');
      expect(saved.length).toBeGreaterThan(0);
      // Renaming names the map (and its file); the central topic keeps its own text.
      if (format === 'md') expect(saved.toString('utf8')).toContain('# Trip');
    }

    await page.getByRole('button', { name: 'Delete Holiday' }).click();
    const confirm = page.getByRole('alertdialog');
    await expect(confirm.textContent()).resolves.toContain('cannot be undone');
    await confirm.getByRole('button', { name: 'Delete map' }).click();
    await page.getByText('No maps yet.').waitFor();

    // A file that is not a mind map: refused before upload, in plain words.
    await dropFile(page, 'notes.txt', new TextEncoder().encode('hello'));
    await page.getByText('is not a mind-map file Canopy can import').waitFor();
    // A damaged file: the server's problem code, in plain words.
    await dropFile(page, 'broken.xmind', new TextEncoder().encode('not a zip at all'));
    const alert = page.getByRole('alert');
    await alert.getByText(/Error code/).waitFor();
    await expect(alert.textContent()).resolves.toMatch(/invalid_file|unsupported_format/);
    await page.context().close();
  });

  it('shares a map with a person of the organisation (invited from the share panel), who then sees it', async () => {
    const ada = await signUpAndVerify(server, uniqueEmail('ada'), PASSWORD, 'Ada Lovelace');
    const bob = await signUpAndVerify(server, uniqueEmail('bob'), PASSWORD, 'Bob Babbage');
    // There is no page for creating an org yet: Ada's team org comes from the API.
    await ada.api.call('POST', '/orgs', { name: 'Analytical Engines' }, 201);

    // Ada switches to the team and creates a map there.
    const adaTab = (await browser.newPage()).page;
    await signInThroughUi(adaTab, server.url, ada);
    await adaTab.getByLabel('Organisation').selectOption({ label: 'Analytical Engines' });
    await adaTab.getByText('No maps yet.').waitFor();
    await adaTab.getByLabel('New map title').fill('Difference engine');
    await adaTab.getByRole('button', { name: 'Create map' }).click();
    await adaTab.waitForURL(/\/maps\/[^/]+$/);
    await adaTab.goto(`${server.url}/maps`);

    // Bob is not in the team yet: sharing says so and offers the invitation.
    const share = async () => {
      await adaTab.getByLabel('Email of the person').fill(bob.email);
      await adaTab.getByLabel('Role').selectOption('editor');
      await adaTab.getByRole('button', { name: 'Share', exact: true }).click();
    };
    await adaTab.getByRole('button', { name: 'Share Difference engine' }).click();
    await share();
    await adaTab.getByText('Nobody in this organisation has that email.').waitFor();
    await adaTab.getByRole('button', { name: `Invite ${bob.email} to Analytical Engines` }).click();
    await adaTab.getByText(`Invitation sent to ${bob.email}`).waitFor();

    // Bob accepts through the mailed link and switches to the team.
    const invitation = await server.mailbox.take(bob.email, /invit/i);
    const bobTab = (await browser.newPage()).page;
    await signInThroughUi(bobTab, server.url, bob);
    await bobTab.goto(linkFrom(invitation));
    await bobTab.getByRole('button', { name: 'Open Analytical Engines' }).click();
    await bobTab.getByText('No maps yet.').waitFor();

    await share();
    const people = adaTab.getByRole('list', { name: 'People with access to Difference engine' });
    await people.getByText(`Bob Babbage <${bob.email}> · editor`).waitFor();
    await adaTab.screenshot({ path: join(OUTPUT, 'maps-share.png') });

    await bobTab.reload();
    await bobTab.getByRole('link', { name: 'Difference engine' }).waitFor();
    await expect(
      bobTab.locator('.map-row').filter({ hasText: 'Difference engine' }).textContent(),
    ).resolves.toContain('editor');
    expect(browser.blockedRequests).toEqual([]);
  });
});
