/** Browser steps that several scenarios share, written against the accessible names a person sees. */
import type { Page } from 'playwright-core';

/**
 * Signs in through the sign-in page (SRP in the app). With `totp`, it answers the code prompt the app shows when
 * the account has MFA. Resolves once the map list is shown.
 */
export async function signInThroughUi(
  page: Page,
  baseUrl: string,
  credentials: { email: string; password: string; totp?: () => string },
): Promise<void> {
  await page.goto(`${baseUrl}/sign-in`);
  const email = page.getByLabel('Email');
  // One reload if the app did not come up: in a shared working tree another test process may be rebuilding
  // apps/web/dist (Vite empties it first) at the moment the page loads. A page that is really broken fails again.
  await email.waitFor({ timeout: 10_000 }).catch(() => page.reload());
  await email.fill(credentials.email);
  await page.getByLabel('Password', { exact: true }).fill(credentials.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (credentials.totp) {
    const code = page.getByLabel('Authenticator code');
    await code.waitFor();
    await code.fill(credentials.totp());
    await page.getByRole('button', { name: /Sign in|Verify/ }).click();
  }
  await page.getByRole('heading', { name: 'Your maps' }).waitFor();
}

/** Signs out with the app's own button (in the header). */
export async function signOutThroughUi(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
}
