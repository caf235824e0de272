/**
 * Starts a real Canopy server for browser tests: what `npm start` runs (`canopy serve`, compiled into
 * dist/server by scripts/build-server.mjs, after scripts/ensure-web-build.mjs), as a child process on a free
 * port, with its own temporary data folder (SQLite and file blobs, the embedded defaults) and mail delivered over
 * SMTP to an in-process mailbox. `stop()` sends SIGTERM, waits for the graceful shutdown and removes the data
 * folder.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMailbox, type Mailbox } from './mailbox.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CanopyServer {
  /** http://127.0.0.1:<port>, also the server's public URL (the links in mails point here). */
  readonly url: string;
  readonly mailbox: Mailbox;
  readonly dataDir: string;
  /** Every line the process printed (stdout and stderr), for diagnostics and printed links. */
  readonly output: string[];
  /** Waits until a printed line matches, e.g. the operator's one-time setup link. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Extra CANOPY_* variables (e.g. CANOPY_BOOTSTRAP_ADMIN_EMAIL); they win over the harness's own. */
  env?: Record<string, string>;
  /** Skip scripts/ensure-web-build.mjs (API-only tests). */
  skipWebBuild?: boolean;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

function newestMtime(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

let webBuilt = false;
/**
 * Builds apps/web when dist is missing or stale, once per test process (the script itself is idempotent).
 * Another test process may be building at the same moment (Vite refuses a second build of the same project), so
 * a failed attempt is retried after a pause; a build that still fails is an error, because the script lets the
 * server start without the app and a browser test must not run against an older build.
 */
export function ensureWebBuild(): void {
  if (webBuilt) return;
  const web = join(REPO_ROOT, 'apps', 'web');
  const built = join(web, 'dist', 'index.html');
  const fresh = () => existsSync(built) && statSync(built).mtimeMs >= newestMtime(join(web, 'src'));
  for (let attempt = 1; attempt <= 4; attempt++) {
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'ensure-web-build.mjs')], {
      cwd: REPO_ROOT,
      // Without Vitest's NODE_ENV=test, which would make Vite bundle React's development build.
      env: cleanEnv(),
      stdio: 'inherit',
    });
    if (r.status === 0 && fresh()) {
      webBuilt = true;
      return;
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5_000);
  }
  throw new Error('apps/web did not build (see the output above); the browser tests need the current app');
}

let serverBuilt = false;
/** Compiles the server into dist/server when it is missing or stale, once per test process (the script locks). */
function ensureServerBuild(): void {
  if (serverBuilt) return;
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build-server.mjs'), '--if-stale'], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error('the server did not compile (see the output above)');
  serverBuilt = true;
}

/**
 * The parent's environment without CANOPY_* settings (a developer's shell must not change the test server) and
 * without Vitest's own variables (NODE_ENV=test, VITEST*), so the build and the server run as `npm start` would.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('CANOPY_') && !k.startsWith('VITEST') && k !== 'NODE_ENV' && k !== 'TEST') env[k] = v;
  }
  return env;
}

async function waitReady(
  url: string,
  child: ChildProcess,
  output: string[],
  timeoutMs: number,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `canopy exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output.join('\n')}`,
      );
    }
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`canopy was not ready within ${timeoutMs} ms:\n${output.join('\n')}`);
}

export async function startCanopy(options: StartOptions = {}): Promise<CanopyServer> {
  if (!options.skipWebBuild) ensureWebBuild();
  ensureServerBuild();
  const mailbox = await startMailbox();
  const dataDir = mkdtempSync(join(tmpdir(), 'canopy-e2e-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const bin = join(REPO_ROOT, 'dist', 'server', 'apps', 'server', 'bin', 'canopy.mjs');
  const child = spawn(process.execPath, [bin, 'serve'], {
    cwd: REPO_ROOT,
    env: {
      ...cleanEnv(),
      CANOPY_PORT: String(port),
      CANOPY_HOST: '127.0.0.1',
      CANOPY_PUBLIC_URL: url,
      CANOPY_DATA_DIR: dataDir,
      CANOPY_SMTP_URL: mailbox.url,
      CANOPY_LOG_LEVEL: 'warn',
      // A short grace period: the browser's keep-alive and WebSocket connections must not hold up stop().
      CANOPY_SHUTDOWN_GRACE_MS: '2000',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const waiters = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    waiters.forEach((w) => w());
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = once(child, 'exit');

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    await mailbox.close();
    rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    await waitReady(url, child, output, 60_000);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    url,
    mailbox,
    dataDir,
    output,
    waitForOutput(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (const line of output) {
            const m = pattern.exec(line);
            if (m) {
              waiters.delete(check);
              clearTimeout(timer);
              resolve(m);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no output line matched ${String(pattern)}:\n${output.join('\n')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    stop,
  };
}
