/**
 * Two people co-editing one map in two browser contexts against a real Canopy process: each sees the other's
 * edits and presence (name chip, and the selected topic) within a second; and edits made offline are sent on
 * reconnect, both sides converge and the indicator goes Offline → Saved.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  REPO_ROOT,
  signInThroughUi,
  signUpAndVerify,
  tokenFrom,
  uniqueEmail,
  type CanopyServer,
  type LocalBrowser,
  type TestAccount,
  useCanopyWithBrowser,
} from './support/index.ts';

const PASSWORD = 'correct horse battery';
/** How soon the other person must see an edit or a selection (the "within a second"). */
const LIVE_MS = 1_000;
const OUTPUT = join(REPO_ROOT, 'test-output');

/** A call in an org (`x-canopy-org`): shared maps live in a team org, not in anyone's personal one. */
async function inOrg<T>(
  server: CanopyServer,
  who: TestAccount,
  orgId: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${who.api.token ?? ''}`,
      'x-canopy-org': orgId,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Ada's team org with Bob invited (through the mailed link), and a map in it shared with Bob as editor. */
async function sharedMap(server: CanopyServer, ada: TestAccount, bob: TestAccount, title: string) {
  const org = await ada.api.call<{ id: string }>('POST', '/orgs', { name: 'Analytical Engines' }, 201);
  await joinOrg(server, ada, org.id, bob);
  const map = await inOrg<{ id: string }>(server, ada, org.id, 'POST', '/maps', { title });
  await inOrg(server, ada, org.id, 'POST', `/maps/${map.id}/shares`, { email: bob.email, role: 'editor' });
  return { orgId: org.id, mapId: map.id };
}

async function joinOrg(server: CanopyServer, admin: TestAccount, orgId: string, who: TestAccount) {
  await admin.api.call('POST', `/orgs/${orgId}/invitations`, { email: who.email, role: 'member' }, 201);
  const mail = await server.mailbox.take(who.email, /invit/i);
  await who.api.call('POST', '/invitations/accept', { token: tokenFrom(mail) });
}

/** Signs in, picks the org, opens the map and waits for it to be live. */
async function openMap(
  browser: LocalBrowser,
  server: CanopyServer,
  who: TestAccount,
  orgId: string,
  mapId: string,
): Promise<Page> {
  const { page } = await browser.newPage();
  await page.setViewportSize({ width: 900, height: 640 });
  await signInThroughUi(page, server.url, who);
  // The app keeps the org a person acts in here (apps/web/src/api/client.ts); the map list's switcher sets it.
  await page.evaluate(`localStorage.setItem('canopy.org', ${JSON.stringify(orgId)})`);
  await page.goto(`${server.url}/maps/${mapId}`);
  await page.getByRole('tree').waitFor();
  await expect.poll(() => indicator(page).textContent(), { timeout: 15_000 }).toBe('Saved');
  return page;
}

const indicator = (page: Page) => page.getByRole('status').filter({ hasText: /^(Saved|Syncing…|Offline)$/ });
const chip = (page: Page, name: string) =>
  page.getByRole('list', { name: 'Also in this map' }).getByRole('listitem').filter({ hasText: name });

/** Adds a child of the selected topic by keyboard and names it; returns when Enter committed it. */
async function addChild(page: Page, text: string): Promise<number> {
  await page.getByRole('tree').focus();
  await page.keyboard.press('Tab');
  const field = page.getByRole('textbox', { name: 'Topic text' });
  await field.fill(text);
  const committed = performance.now();
  await field.press('Enter');
  await field.waitFor({ state: 'detached' });
  return committed;
}

/** Polls `check` until it passes, failing if that takes longer than `ms` from `since`. */
async function within(ms: number, since: number, check: () => Promise<boolean>): Promise<number> {
  for (;;) {
    if (await check()) return performance.now() - since;
    if (performance.now() - since > ms) throw new Error(`not seen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('co-editing in two browsers, against a real Canopy process', () => {
  let server: CanopyServer;
  let browser: LocalBrowser;
  useCanopyWithBrowser((started) => ({ server, browser } = started));
  let ada: TestAccount;
  let bob: TestAccount;

  beforeAll(async () => {
    ada = await signUpAndVerify(server, uniqueEmail('ada'), PASSWORD, 'Ada Lovelace');
    bob = await signUpAndVerify(server, uniqueEmail('bob'), PASSWORD, 'Bob Babbage');
    mkdirSync(OUTPUT, { recursive: true });
  });

  it("shows each person the other's edits and presence (name and selection) within a second", async () => {
    const { orgId, mapId } = await sharedMap(server, ada, bob, 'Engine plans');
    const pageA = await openMap(browser, server, ada, orgId, mapId);
    const pageB = await openMap(browser, server, bob, orgId, mapId);

    // Presence: each sees the other's chip.
    await chip(pageA, 'Bob Babbage').waitFor({ timeout: 5_000 });
    await chip(pageB, 'Ada Lovelace').waitFor({ timeout: 5_000 });

    // Ada's edit and selection reach Bob...
    // Timed from the Enter that commits the edit (which also selects the new topic).
    let since = await addChild(pageA, 'Mill');
    const editAtoB = await within(LIVE_MS, since, () =>
      pageB.getByRole('treeitem', { name: 'Mill', exact: true }).isVisible(),
    );
    const selectionAtoB = await within(LIVE_MS, since, async () =>
      ((await chip(pageB, 'Ada Lovelace').textContent()) ?? '').includes('on “Mill”'),
    );
    // ...and Bob's reach Ada.
    since = await addChild(pageB, 'Store');
    const editBtoA = await within(LIVE_MS, since, () =>
      pageA.getByRole('treeitem', { name: 'Store', exact: true }).isVisible(),
    );
    const selectionBtoA = await within(LIVE_MS, since, async () =>
      ((await chip(pageA, 'Bob Babbage').textContent()) ?? '').includes('on “Store”'),
    );
    console.log(
      `co-editing latency (ms): edit A→B ${editAtoB.toFixed(0)}, selection A→B ${selectionAtoB.toFixed(0)}, ` +
        `edit B→A ${editBtoA.toFixed(0)}, selection B→A ${selectionBtoA.toFixed(0)}`,
    );

    // Both maps hold both topics; each screen shows the other's ring (drawn on the canvas overlay).
    await pageA.waitForTimeout(300);
    await pageA.screenshot({ path: join(OUTPUT, 'editor-coediting-ada.png') });
    await pageB.screenshot({ path: join(OUTPUT, 'editor-coediting-bob.png') });
    await sideBySide(pageA, [
      join(OUTPUT, 'editor-coediting-ada.png'),
      join(OUTPUT, 'editor-coediting-bob.png'),
    ]);

    // Undo is per person: Ada's Ctrl+Z takes back her topic, on both screens, and leaves Bob's.
    await pageA.getByRole('tree').focus();
    await pageA.keyboard.press('Control+z');
    await pageB.getByRole('treeitem', { name: 'Mill', exact: true }).waitFor({ state: 'detached' });
    await pageA.keyboard.press('Home');
    await pageA.getByRole('treeitem', { name: 'Store', exact: true }).waitFor();
    expect(await pageA.getByRole('treeitem', { name: 'Mill', exact: true }).count()).toBe(0);

    // Bob leaves: his chip goes from Ada's screen at once (the server deletes his presence key, protocol R19).
    await pageB.context().close();
    await chip(pageA, 'Bob Babbage').waitFor({ state: 'detached', timeout: 5_000 });
    await pageA.context().close();
  });

  it('sends edits made offline on reconnect; both converge and the indicator goes Offline → Saved', async () => {
    const { orgId, mapId } = await sharedMap(server, ada, bob, 'Offline plans');
    const pageA = await openMap(browser, server, ada, orgId, mapId);
    const pageB = await openMap(browser, server, bob, orgId, mapId);

    await pageA.context().setOffline(true);
    await expect.poll(() => indicator(pageA).textContent()).toBe('Offline');
    await addChild(pageA, 'Written offline');
    await pageA.getByRole('tree').focus();
    await pageA.keyboard.press('Home');
    await addChild(pageB, 'Written online');
    // Bob cannot see Ada's offline edit yet; Ada cannot see Bob's.
    await pageA.waitForTimeout(500);
    expect(await pageB.getByRole('treeitem', { name: 'Written offline' }).count()).toBe(0);
    expect(await pageA.getByRole('treeitem', { name: 'Written online' }).count()).toBe(0);
    expect(await indicator(pageA).textContent()).toBe('Offline');

    const back = performance.now();
    await pageA.context().setOffline(false);
    await expect.poll(() => indicator(pageA).textContent(), { timeout: 15_000 }).toBe('Saved');
    console.log(`back online → Saved after ${(performance.now() - back).toFixed(0)} ms`);
    await pageB.getByRole('treeitem', { name: 'Written offline', exact: true }).waitFor({ timeout: 5_000 });
    await pageA.keyboard.press('Home');
    await pageA.getByRole('treeitem', { name: 'Written online', exact: true }).waitFor({ timeout: 5_000 });
    const doc = await inOrg<{ root: { children: { text: string }[] } }>(
      server,
      ada,
      orgId,
      'GET',
      `/maps/${mapId}/document`,
    );
    expect(doc.root.children.map((c) => c.text).sort()).toEqual(['Written offline', 'Written online']);
    await pageA.context().close();
    await pageB.context().close();
  });

  it('gives a viewer a read-only editor, and tells people the map is not shared with them or does not exist', async () => {
    const { orgId, mapId } = await sharedMap(server, ada, bob, 'Read-only plans');
    await inOrg(server, ada, orgId, 'POST', `/maps/${mapId}/shares`, { email: bob.email, role: 'viewer' });
    const pageA = await openMap(browser, server, ada, orgId, mapId);
    const pageB = await openMap(browser, server, bob, orgId, mapId);
    await pageB.getByText('View only', { exact: true }).waitFor();
    await pageB.getByRole('tree').focus();
    await pageB.keyboard.press('Tab');
    await pageB.keyboard.press('Enter');
    await pageB.keyboard.press('x');
    expect(await pageB.getByRole('textbox', { name: 'Topic text' }).count()).toBe(0);
    expect(await pageB.getByRole('treeitem').count()).toBe(1);
    // Others' edits still show at once.
    await addChild(pageA, 'Seen by the viewer');
    await pageB.getByRole('treeitem', { name: 'Seen by the viewer' }).waitFor({ timeout: 2_000 });

    const carol = await signUpAndVerify(server, uniqueEmail('carol'), PASSWORD, 'Carol Herschel');
    await joinOrg(server, ada, orgId, carol);
    const { page: pageC } = await browser.newPage();
    await signInThroughUi(pageC, server.url, carol);
    await pageC.evaluate(`localStorage.setItem('canopy.org', ${JSON.stringify(orgId)})`);
    await pageC.goto(`${server.url}/maps/${mapId}`);
    await pageC.getByRole('alert').filter({ hasText: 'not shared with you' }).waitFor();
    await pageC.goto(`${server.url}/maps/no-such-map`);
    await pageC.getByRole('alert').filter({ hasText: 'does not exist' }).waitFor();
    for (const page of [pageA, pageB, pageC]) await page.context().close();
  });
});

/**
 * Both screenshots side by side in one image, composed by the page itself (no image library needed). The script
 * is a string because the e2e tree type-checks without the DOM library.
 */
async function sideBySide(page: Page, files: string[]): Promise<void> {
  const images = files.map((f) => `data:image/png;base64,${readFileSync(f).toString('base64')}`);
  const dataUrl = await page.evaluate<string>(`(async (sources) => {
    const loaded = await Promise.all(sources.map((src) => new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = reject;
      img.src = src;
    })));
    const gap = 12;
    const canvas = document.createElement('canvas');
    canvas.width = loaded.reduce((w, img) => w + img.width, 0) + gap * (loaded.length - 1);
    canvas.height = Math.max(...loaded.map((img) => img.height));
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#444';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    let x = 0;
    for (const img of loaded) {
      ctx.drawImage(img, x, 0);
      x += img.width + gap;
    }
    return canvas.toDataURL('image/png');
  })(${JSON.stringify(images)})`);
  writeFileSync(join(OUTPUT, 'editor-coediting.png'), Buffer.from(dataUrl.split(',')[1]!, 'base64'));
}
