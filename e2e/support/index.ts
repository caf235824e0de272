/** The shared browser-test harness: a real Canopy process, its mailbox, API helpers and UI steps. */
export { startCanopy, ensureWebBuild, REPO_ROOT, type CanopyServer, type StartOptions } from './server.ts';
export { startMailbox, linkFrom, tokenFrom, type Mailbox, type ReceivedMail } from './mailbox.ts';
export { api, signUpAndVerify, uniqueEmail, type ApiCaller, type TestAccount } from './api.ts';
export { signInThroughUi, signOutThroughUi } from './ui.ts';
export { launchLocalBrowser, type LocalBrowser } from '../browser.ts';
export { useCanopyWithBrowser, type CanopyWithBrowser } from './suite.ts';
