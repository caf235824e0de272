import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStatic } from '../bench/editor/staticServer.ts';
import { ensureWebBuild, launchLocalBrowser, REPO_ROOT, type LocalBrowser } from './support/index.ts';

const OUTPUT = join(REPO_ROOT, 'test-output');

/**
 * The topic side panel on the demo page (the in-memory store: no server), served from the built app under the
 * strict CSP the Canopy server sends, so that any inline style or script the panel needs would show up as a
 * violation here.
 */
describe('topic side panel in headless Chromium', () => {
  let site: { url: string; close: () => Promise<void> };
  let browser: LocalBrowser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    ensureWebBuild();
    site = await serveStatic(join(REPO_ROOT, 'apps/web/dist'));
    browser = await launchLocalBrowser(site.url);
    ({ page } = await browser.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    // Strings, not functions: this project's Node typings have no DOM, and the page runs them as they are.
    await page.addInitScript(
      "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));",
    );
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  it('writes a bold note, adds a tag and a link, shows the badges on the canvas, undoes one step', async () => {
    await page.goto(`${site.url}/demo?topics=50`);
    await page.waitForFunction(
      () => ((globalThis as { canopyDemo?: { firstFrameAt?: number } }).canopyDemo?.firstFrameAt ?? 0) > 0,
    );
    const details = page.getByRole('button', { name: 'Details', exact: true });
    if ((await details.getAttribute('aria-pressed')) !== 'true') await details.click();
    const panel = page.getByRole('complementary', { name: 'Topic details' });
    await expect(panel.isVisible()).resolves.toBe(true);

    // Select the first main topic by keyboard, as a person would.
    await page.locator('.topic-tree').focus();
    await page.keyboard.press('ArrowRight');
    const topicName = (await panel.locator('.panel-topic-text').textContent()) ?? '';
    expect(topicName).not.toBe('Product launch');
    const widthBefore = await selectedBoxWidth(page);

    // A note with bold text, through the toolbar button, saved when the field is left.
    const notes = panel.getByRole('textbox', { name: 'Notes' });
    await notes.click();
    await page.keyboard.type('Remember: ');
    await panel.getByRole('button', { name: 'Bold' }).click();
    await page.keyboard.type('ship on Friday');
    await panel.getByRole('button', { name: 'Bold' }).click();
    await page.keyboard.type(' and');
    // Pasted markup from another page is sanitised before it enters the field: no script, handler, foreign
    // image (it would be a blocked request) or style attribute (it would be a CSP violation).
    await page.evaluate(`(() => {
      const data = new DataTransfer();
      data.setData('text/html', '<p onclick="alert(1)">a <span style="color:#dc2626">paste</span></p>' +
        '<img src="https://images.example/x.png"><script>alert(2)</script>');
      document.activeElement.dispatchEvent(
        new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    })()`);
    await page.keyboard.press('Tab');
    const saved = await notes.innerHTML();
    expect(saved).toMatch(/Remember: <b>ship on Friday<\/b>/);
    expect(saved).toContain('paste');
    expect(saved).not.toMatch(/<img|<script|onclick|style=/);

    // A tag and a link.
    const tag = panel.getByLabel('Add tag');
    await tag.fill('launch');
    await tag.press('Enter');
    await expect(panel.getByRole('list', { name: 'Tags' }).textContent()).resolves.toContain('launch');
    await panel.locator('summary', { hasText: 'Add a link' }).click();
    await panel.getByLabel('Address').fill('example.com/plan');
    await panel.getByRole('button', { name: 'Add link' }).click();
    const link = panel.locator('.links-section a');
    await expect(link.getAttribute('href')).resolves.toBe('https://example.com/plan');
    await expect(link.getAttribute('target')).resolves.toBe('_blank');
    await expect(link.getAttribute('rel')).resolves.toBe('noopener noreferrer');

    // The topic on the canvas grew by three badges (notes, link, tag: 17 units each) after its text.
    const widthAfter = await selectedBoxWidth(page);
    const scale = parseInt((await page.locator('.zoom-level').textContent()) ?? '100', 10) / 100;
    expect(widthAfter - widthBefore).toBeGreaterThanOrEqual(3 * 17 * scale - 2);
    await page.evaluate("document.querySelector('.topic-panel').scrollTo({ top: 0 })");
    await page.screenshot({ path: join(OUTPUT, 'editor-panel.png') });

    // Back on the map, Ctrl+Z takes back the last change only (the link); Ctrl+Y puts it back.
    await page.locator('.topic-tree').focus();
    await page.keyboard.press('Control+z');
    await expect(panel.locator('.links-section a').count()).resolves.toBe(0);
    await expect(panel.getByRole('list', { name: 'Tags' }).textContent()).resolves.toContain('launch');
    await page.keyboard.press('Control+y');
    await expect(panel.locator('.links-section a').count()).resolves.toBe(1);

    // Alt+Enter hides the panel and gives the map its width back; again shows it with focus in it.
    const canvasWidth = async () => (await page.locator('.map-canvas').boundingBox())?.width ?? 0;
    const narrow = await canvasWidth();
    await page.keyboard.press('Alt+Enter');
    await expect(panel.isVisible()).resolves.toBe(false);
    expect(await canvasWidth()).toBeGreaterThan(narrow + 200);
    await page.keyboard.press('Alt+Enter');
    await expect(panel.isVisible()).resolves.toBe(true);
    await expect(page.evaluate("document.activeElement?.getAttribute('aria-label')")).resolves.toBe(
      'Topic details',
    );

    expect(problems).toEqual([]);
    expect(browser.blockedRequests).toEqual([]);
  });

  it('formats a note as lists, italic, underlined and linked text with the toolbar and Ctrl+K', async () => {
    await page.locator('.topic-tree').focus();
    await page.keyboard.press('ArrowDown');
    const panel = page.getByRole('complementary', { name: 'Topic details' });
    const notes = panel.getByRole('textbox', { name: 'Notes' });
    await notes.click();
    await page.keyboard.type('first');
    await page.keyboard.press('Enter');
    await page.keyboard.type('second');
    await page.keyboard.press('Control+a');
    for (const name of ['Bulleted list', 'Numbered list', 'Italic', 'Underline']) {
      await panel.getByRole('button', { name }).click();
    }
    await page.keyboard.press('Control+k');
    await panel.getByLabel('Link address').fill('javascript:alert(1)');
    await panel.getByLabel('Link address').press('Enter');
    await expect(panel.getByRole('alert').textContent()).resolves.toMatch(/http, https and mailto/);
    await panel.getByLabel('Link address').fill('example.org');
    await panel.getByLabel('Link address').press('Enter');
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Control+k');
    await panel.getByLabel('Link address').fill('someone@example.org');
    await panel.getByRole('button', { name: 'Apply' }).click();
    await page.keyboard.press('Escape');
    await expect(notes.innerHTML()).resolves.toBe(
      '<ol><li><i><u><a href="https://example.org/">first</a></u></i></li><li><i><u>' +
        '<a href="https://example.org/">second</a><a href="mailto:someone@example.org">someone@example.org</a>' +
        '</u></i></li></ol>',
    );
    expect(problems).toEqual([]);
  });
});

/**
 * The width of the selected topic on the canvas, read from the pixels of its selection ring (#1d4ed8): the
 * canvas has no DOM to ask, and this is what a person sees.
 */
async function selectedBoxWidth(page: Page): Promise<number> {
  await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => resolve(null)))');
  return page.evaluate(`(() => {
    const canvas = document.querySelector('.map-canvas');
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let minX = Infinity;
    let maxX = -Infinity;
    for (let i = 0; i < data.length; i += 4) {
      if (Math.abs(data[i] - 0x1d) < 12 && Math.abs(data[i + 1] - 0x4e) < 12 && Math.abs(data[i + 2] - 0xd8) < 12) {
        const x = (i / 4) % canvas.width;
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
      }
    }
    if (minX === Infinity) throw new Error('no selection ring on the canvas');
    return (maxX - minX) / (window.devicePixelRatio || 1);
  })()`);
}
