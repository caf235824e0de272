/**
 * A cloud map's topic image in the editor, against a real Canopy process: a .mmap with an embedded PNG is
 * imported through the API, and the editor draws the image from `GET /maps/{id}/blobs/{ref}` (a `blob:` URL
 * under the page's strict CSP) instead of the placeholder.
 */
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { exportMap } from '@canopy/formats';
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

function crc32(bytes: Buffer): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** A solid-colour RGB PNG of `size`×`size` pixels. */
function solidPng(size: number, [r, g, b]: [number, number, number]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([
    Buffer.from([0]),
    Buffer.from(Array.from({ length: size }, () => [r, g, b]).flat()),
  ]);
  const pixels = deflateSync(Buffer.concat(Array.from({ length: size }, () => row)));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', pixels),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('topic images in the editor, against a real Canopy process', () => {
  let server: CanopyServer;
  let browser: LocalBrowser;
  useCanopyWithBrowser((started) => ({ server, browser } = started));

  it('draws an imported .mmap image from the blob route, with no CSP violation', async () => {
    const account = await signUpAndVerify(server, uniqueEmail('img'), PASSWORD, 'Ada Lovelace');
    const png = solidPng(48, [255, 0, 0]);
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
    // (A string: the e2e project has no DOM types.)
    const redPixels = () =>
      page.evaluate<number>(`(() => {
        let n = 0;
        for (const canvas of document.querySelectorAll('canvas')) {
          const context = canvas.getContext('2d');
          if (!context || canvas.width === 0 || canvas.height === 0) continue;
          const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
          for (let i = 0; i < data.length; i += 4)
            if (data[i] > 200 && data[i + 1] < 40 && data[i + 2] < 40) n++;
        }
        return n;
      })()`);
    await expect.poll(redPixels, { timeout: 15_000 }).toBeGreaterThan(100);
    expect(errors).toEqual([]);
    expect(browser.blockedRequests).toEqual([]);
  });
});
