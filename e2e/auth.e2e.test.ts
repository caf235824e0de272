/**
 * Accounts in the browser against a real Canopy process (e2e/support): sign-up with the verification mail,
 * SRP sign-in, sign-out, and two-step sign-in with a TOTP code computed here.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TOTP } from 'otpauth';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  REPO_ROOT,
  linkFrom,
  signInThroughUi,
  signOutThroughUi,
  signUpAndVerify,
  uniqueEmail,
  type CanopyServer,
  type LocalBrowser,
  useCanopyWithBrowser,
} from './support/index.ts';

const PASSWORD = 'correct horse battery';
const OUTPUT = join(REPO_ROOT, 'test-output');

/** The API calls a page makes, as "METHOD /path", and the bodies of the sign-in calls. */
function recordApiCalls(page: Page) {
  const calls: string[] = [];
  const bodies: string[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (!url.pathname.startsWith('/api/v1/')) return;
    calls.push(`${request.method()} ${url.pathname.slice('/api/v1'.length)}`);
    if (url.pathname.includes('/sessions')) bodies.push(request.postData() ?? '');
  });
  return { calls, bodies };
}

describe('accounts in the browser, against a real Canopy process', () => {
  let server: CanopyServer;
  let browser: LocalBrowser;
  useCanopyWithBrowser((started) => ({ server, browser } = started));

  it('creates the operator with the one-time setup link the server printed, who then signs in', async () => {
    const [, link] = (await server.waitForOutput(/(http:\/\/\S+\/setup\?token=[^\s"]+)/)) as unknown as [
      string,
      string,
    ];
    const email = uniqueEmail('operator');
    const { page } = await browser.newPage();
    await page.goto(link);
    await page.getByRole('heading', { name: 'Set up this Canopy' }).waitFor();
    await page.getByLabel('First name').fill('Olive');
    await page.getByLabel('Last name').fill('Operator');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Repeat password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create operator account' }).click();
    await page.getByText('is the operator of this Canopy').waitFor();
    await signInThroughUi(page, server.url, { email, password: PASSWORD });
    await page.context().close();
  });

  it('signs up, opens the verification link from the mail, signs in with SRP, signs out and in again', async () => {
    const email = uniqueEmail('ada');
    const { page } = await browser.newPage();
    const api = recordApiCalls(page);

    await page.goto(`${server.url}/sign-up`);
    await page.getByLabel('First name').fill('Ada');
    await page.getByLabel('Last name').fill('Lovelace');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Repeat password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();

    const mail = await server.mailbox.take(email, /confirm/i);
    const link = linkFrom(mail);
    expect(link.startsWith(server.url)).toBe(true);
    await page.goto(link);
    await page.getByText('Your email is verified.').waitFor();

    await signInThroughUi(page, server.url, { email, password: PASSWORD });
    // SRP: the password itself never went to the server.
    expect(api.calls).toContain('POST /sessions/srp/start');
    expect(api.calls).toContain('POST /sessions/srp/finish');
    expect(api.calls).not.toContain('POST /sessions');
    expect(api.bodies.join('\n')).not.toContain(PASSWORD);

    await signOutThroughUi(page);
    expect(api.calls).toContain('DELETE /sessions/current');
    await page.goto(`${server.url}/maps`);
    await page.getByText('You are not signed in.').waitFor();

    await signInThroughUi(page, server.url, { email, password: PASSWORD });
    await expect(page.getByRole('heading', { name: 'Your maps' }).isVisible()).resolves.toBe(true);
    expect(browser.blockedRequests).toEqual([]);
    await page.context().close();
  });

  it('says so in plain words when the password is wrong', async () => {
    const account = await signUpAndVerify(server, uniqueEmail('grace'), PASSWORD, 'Grace Hopper');
    const { page } = await browser.newPage();
    await page.goto(`${server.url}/sign-in`);
    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password', { exact: true }).fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That email and password do not match an account.').waitFor();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('invalid_credentials');
    await page.context().close();
  });

  it('resets a forgotten password from the mailed link; the new one signs in with SRP, the old one not', async () => {
    const account = await signUpAndVerify(server, uniqueEmail('reset'), PASSWORD, 'Katherine Johnson');
    const { page } = await browser.newPage();
    await page.goto(`${server.url}/sign-in`);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Email').fill(account.email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByText('we have sent it a link').waitFor();

    await page.goto(linkFrom(await server.mailbox.take(account.email, /password/i)));
    const renewed = 'a brand new passphrase';
    await page.getByLabel('New password').fill(renewed);
    await page.getByLabel('Repeat password').fill(renewed);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Your password is changed').waitFor();

    await page.goto(`${server.url}/sign-in`);
    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That email and password do not match an account.').waitFor();
    await signInThroughUi(page, server.url, { email: account.email, password: renewed });
    await page.context().close();
  });

  it('turns on two-step sign-in in the settings, then signs in with a TOTP code and with a recovery code', async () => {
    const account = await signUpAndVerify(server, uniqueEmail('mfa'), PASSWORD, 'Margaret Hamilton');
    const { page } = await browser.newPage();
    await signInThroughUi(page, server.url, account);

    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const secret = (await page.getByLabel('Secret key').textContent())?.trim() ?? '';
    const uri = (await page.getByTestId('otpauth-uri').textContent()) ?? '';
    expect(uri).toMatch(/^otpauth:\/\/totp\//);
    expect(uri).toContain(`secret=${secret}`);
    const totp = new TOTP({ secret, digits: 6, period: 30, algorithm: 'SHA1' });

    await page.getByLabel('Code from the app').fill(totp.generate());
    await page.getByRole('button', { name: 'Turn on' }).click();
    const codes = page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem');
    await codes.first().waitFor();
    expect(await codes.count()).toBeGreaterThanOrEqual(8);
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, 'settings-mfa.png'), fullPage: true });
    const recoveryCode = (await codes.first().textContent())?.trim() ?? '';
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await page.getByText('Two-step sign-in is on.').waitFor();

    await signOutThroughUi(page);
    // Each time step is accepted once and the window is ±1 step: the next step's code is fresh and valid.
    await signInThroughUi(page, server.url, {
      ...account,
      totp: () => totp.generate({ timestamp: Date.now() + 30_000 }),
    });

    // Without the phone: a recovery code, once.
    await signOutThroughUi(page);
    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await page.getByLabel('Recovery code').fill(recoveryCode);
    await page.getByRole('button', { name: 'Verify and sign in' }).click();
    await page.getByRole('heading', { name: 'Your maps' }).waitFor();
    expect(browser.blockedRequests).toEqual([]);
    await page.context().close();
  });
});
