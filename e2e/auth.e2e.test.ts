import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchLocalBrowser,
  signUpAndVerify,
  startCanopy,
  uniqueEmail,
  type CanopyServer,
  type LocalBrowser,
} from './support/index.ts';

describe('accounts in the browser, against a real Canopy process', () => {
  let server: CanopyServer;
  let browser: LocalBrowser;

  beforeAll(async () => {
    server = await startCanopy();
    browser = await launchLocalBrowser(server.url);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('the harness signs up and verifies through the API and the mailbox, and serves the app', async () => {
    const email = uniqueEmail('harness');
    const account = await signUpAndVerify(server, email, 'correct horse battery', 'Ada Lovelace');
    const me = await account.api.call<{ email: string; emailVerified: boolean }>('GET', '/me');
    expect(me).toMatchObject({ email, emailVerified: true });
    const { page } = await browser.newPage();
    await page.goto(`${server.url}/sign-in`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(browser.blockedRequests).toEqual([]);
  });
});
