import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportMap } from '../packages/formats/src/index.ts';
import { richDocument } from '../packages/formats/src/test-support/sample-documents.ts';
import { launchOfflineBrowser, type LaunchedBrowser } from './browser.ts';

const OUTPUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-output');

describe('HTML5 export in headless Chromium, offline', () => {
  let browser: LaunchedBrowser;
  const dialogs: string[] = [];

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    browser = await launchOfflineBrowser();
    browser.page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('shows the map, expands and collapses with hidden counts, opens a note, follows a topic link, pans, zooms and searches', async () => {
    const { document, blobs } = richDocument();
    const exported = exportMap(document, 'html', { blobs });
    const file = join(OUTPUT, 'html-export.html');
    writeFileSync(file, exported.data);
    const { page } = browser;
    await page.goto(pathToFileURL(file).href);
    await page.waitForFunction('window.canopyViewerReady === true');

    // Map text that looks like markup is shown as text, never run.
    await expect(page.locator('.topic.root .text').textContent()).resolves.toBe(document.root.text);
    expect(dialogs).toEqual([]);
    await expect(page.locator('.topic img').first().getAttribute('src')).resolves.toMatch(
      /^data:image\/png;base64,/,
    );

    // "Alpha" is saved collapsed: its two children and its summary topic are hidden and counted.
    const toggle = page.locator('.topic[data-id="a"] + .toggle');
    await expect(toggle.textContent()).resolves.toBe('+3');
    await expect(page.getByText('Alpha one', { exact: true }).isVisible()).resolves.toBe(false);
    await toggle.click();
    await expect(page.getByText('Alpha one', { exact: true }).isVisible()).resolves.toBe(true);
    await expect(toggle.getAttribute('aria-expanded')).resolves.toBe('true');
    await toggle.click();
    await expect(page.getByText('Alpha one', { exact: true }).isVisible()).resolves.toBe(false);
    await expect(toggle.textContent()).resolves.toBe('+3');

    // Notes open in a popup.
    await page.locator('.topic[data-id="a"] .note-btn').click();
    await expect(page.locator('#popup').isVisible()).resolves.toBe(true);
    await expect(page.locator('#popup-body').textContent()).resolves.toContain('Note with bold, a link');
    await page.screenshot({ path: join(OUTPUT, 'html-export-note.png') });
    await page.locator('#popup-close').click();
    await expect(page.locator('#popup').isVisible()).resolves.toBe(false);

    // A topic link reveals and highlights its target.
    await toggle.click();
    await page.locator('.topic[data-id="a"] button.link').click();
    await expect(page.locator('.topic[data-id="c1"]').getAttribute('class')).resolves.toContain('target');

    // Pan and zoom move the canvas.
    const transform = () =>
      page
        .locator('#canvas')
        .evaluate((el) => (el as unknown as { style: { transform: string } }).style.transform);
    const before = await transform();
    await page.locator('#zoom-in').click();
    const zoomed = await transform();
    expect(zoomed).not.toBe(before);
    await page.mouse.move(640, 700);
    await page.mouse.down();
    await page.mouse.move(540, 650, { steps: 4 });
    await page.mouse.up();
    expect(await transform()).not.toBe(zoomed);

    // Search highlights matches in text and notes.
    await page.locator('#search').fill('alpha');
    await expect(page.locator('#hits').textContent()).resolves.toBe('3 found');
    await page.locator('#search').fill('');
    await page.locator('#fit').click();

    await page.screenshot({ path: join(OUTPUT, 'html-export.png') });
    expect(browser.blockedRequests).toEqual([]);
  });

  it('the request guard is not vacuous: a page that reaches for the network is caught', async () => {
    const file = join(OUTPUT, 'network-probe.html');
    writeFileSync(
      file,
      '<!DOCTYPE html><title>probe</title><img src="http://example.invalid/x.png"><script>fetch("https://example.invalid/y").catch(function(){})</script>',
    );
    const before = browser.blockedRequests.length;
    await browser.page.goto(pathToFileURL(file).href);
    await browser.page.waitForTimeout(500);
    expect(browser.blockedRequests.slice(before).sort()).toEqual([
      'http://example.invalid/x.png',
      'https://example.invalid/y',
    ]);
    browser.blockedRequests.length = before;
  });
});
