/**
 * A cloud map's topic image in the editor, against a real Canopy process: a .mmap with an embedded PNG is
 * imported through the API, and the editor draws the image from `GET /maps/{id}/blobs/{ref}` (a `blob:` URL
 * under the page's strict CSP) instead of the placeholder; and an image added in the side panel is uploaded
 * (`POST /maps/{id}/blobs`), put on the topic, saved and drawn.
 */
import { createHash } from 'node:crypto';
import { exportMap } from '@canopy/formats';
import { solidPng } from '../packages/formats/src/shared/png.ts';
import { MindMap, type MapDocument } from '@canopy/model';
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

describe('topic images in the editor, against a real Canopy process', () => {
  let server: CanopyServer;
  let browser: LocalBrowser;
  useCanopyWithBrowser((started) => ({ server, browser } = started));

  it('draws an imported .mmap image from the blob route, with no CSP violation', async () => {
    const account = await signUpAndVerify(server, uniqueEmail('img'), PASSWORD, 'Ada Lovelace');
    const png = solidPng(48, 48, [255, 0, 0]);
    const ref = `sha256:${createHash('sha256').update(png).digest('hex')}`;
    const doc: MapDocument = MindMap.create('Red square').toJSON();
    doc.root.image = { ref, mimeType: 'image/png', size: png.length, width: 48, height: 48 };
    const file = exportMap(doc, 'mmap', {
      blobs: new Map([[ref, { data: new Uint8Array(png), mimeType: 'image/png' }]]),
    }).data;
    const imported = await fetch(`${server.url}/api/v1/maps/import?filename=red.mmap`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${account.api.token ?? ''}`,
        'content-type': 'application/octet-stream',
      },
      body: Buffer.from(file),
    });
    expect(imported.status).toBe(201);
    const { id } = (await imported.json()) as { id: string };

    const { page } = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) errors.push(message.text());
    });
    await signInThroughUi(page, server.url, account);
    const served = page.waitForResponse((r) => r.url().includes(`/maps/${id}/blobs/`));
    await page.goto(`${server.url}/maps/${id}`);
    await page.getByRole('tree').waitFor();
    const response = await served;
    expect(response.status()).toBe(200);
    expect(response.headers()['content-type']).toBe('image/png');

    // Some pixels of the canvas turn the image's red (the placeholder is grey).
    const redPixels = () => pixelsLike(page, [255, 0, 0]);
    await expect.poll(redPixels, { timeout: 15_000 }).toBeGreaterThan(100);
    expect(errors).toEqual([]);
    expect(browser.blockedRequests).toEqual([]);
  });

  it('uploads an image chosen in the side panel, puts it on the topic and draws it', async () => {
    const account = await signUpAndVerify(server, uniqueEmail('upl'), PASSWORD, 'Grace Hopper');
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${server.url}/api/v1${path}`, {
        ...init,
        headers: { authorization: `Bearer ${account.api.token ?? ''}`, 'content-type': 'application/json' },
      });
    const created = await api('/maps', { method: 'POST', body: JSON.stringify({ title: 'Blue square' }) });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };

    const { page } = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await signInThroughUi(page, server.url, account);
    await page.goto(`${server.url}/maps/${id}`);
    await page.getByRole('tree').waitFor();
    await page.getByRole('button', { name: /Details/ }).click();
    const png = solidPng(48, 48, [0, 0, 255]);
    const stored = page.waitForResponse(
      (r) => r.url().endsWith(`/maps/${id}/blobs`) && r.request().method() === 'POST',
    );
    await page
      .getByLabel('Add an image')
      .setInputFiles({ name: 'blue.png', mimeType: 'image/png', buffer: Buffer.from(png) });
    expect((await stored).status()).toBe(201);

    await expect.poll(() => pixelsLike(page, [0, 0, 255]), { timeout: 15_000 }).toBeGreaterThan(100);
    // Saved: the server's document has it, by the hash of the bytes.
    const ref = `sha256:${createHash('sha256').update(png).digest('hex')}`;
    await expect
      .poll(async () => ((await (await api(`/maps/${id}/document`)).json()) as MapDocument).root.image?.ref, {
        timeout: 15_000,
      })
      .toBe(ref);
    expect(errors).toEqual([]);
  });
});

/** How many canvas pixels are close to `rgb`. (A string: the e2e project has no DOM types.) */
function pixelsLike(
  page: Awaited<ReturnType<LocalBrowser['newPage']>>['page'],
  rgb: [number, number, number],
) {
  return page.evaluate<number>(`(() => {
    const want = ${JSON.stringify(rgb)};
    let n = 0;
    for (const canvas of document.querySelectorAll('canvas')) {
      const context = canvas.getContext('2d');
      if (!context || canvas.width === 0 || canvas.height === 0) continue;
      const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
      for (let i = 0; i < data.length; i += 4)
        if (Math.abs(data[i] - want[0]) < 40 && Math.abs(data[i + 1] - want[1]) < 40 && Math.abs(data[i + 2] - want[2]) < 40) n++;
    }
    return n;
  })()`);
}
