/**
 * Test harness for licensing: the real app (buildApp) on a test database, with the edges faked: a fake
 * identity (bearer tokens → callers), an in-memory signer that can rotate, and a mailbox. Everything inside
 * the module (routes, commands, repositories, SQL) is real.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { buildApp, type App, type AppDeps } from '../../app.ts';
import { loadConfig } from '../../config.ts';
import { ManualClock } from '../../platform/clock.ts';
import { createPlatform, type Platform } from '../../platform/index.ts';
import { EphemeralLicenseSigner } from './ephemeral-signer.ts';
import type { LicensingModuleOptions } from './index.ts';
import type { LicensingCaller, LicensingMail, OrgRole } from './ports.ts';

export class FakeIdentity {
  private readonly tokens = new Map<string, LicensingCaller>();
  private n = 0;

  /** A user with a bearer token; `orgs` maps org id → role. */
  user(
    email: string,
    orgs: Record<string, OrgRole> = {},
    operator = false,
    emailVerified = true,
  ): { token: string; caller: LicensingCaller } {
    const token = `tok-${++this.n}-${email}`;
    const caller: LicensingCaller = {
      accountId: `acc-${this.n}`,
      email: email.toLowerCase(),
      emailVerified,
      operator,
      orgs: new Map(Object.entries(orgs)),
    };
    this.tokens.set(token, caller);
    return { token, caller };
  }

  /** The caller of a request's bearer token, at once (the validation route's `known`: its warm path). */
  known = (request: { headers: Record<string, string | string[] | undefined> }) => {
    const m = /^Bearer (\S+)$/.exec(String(request.headers.authorization ?? ''));
    return m?.[1] ? this.tokens.get(m[1]) : undefined;
  };

  resolve = async (request: { headers: Record<string, string | string[] | undefined> }) =>
    this.known(request);

  adminsOf(orgId: string): string[] {
    return [...this.tokens.values()].filter((c) => c.orgs.get(orgId) === 'admin').map((c) => c.email);
  }
}

export interface LicensingTestApp {
  app: App;
  deps: AppDeps;
  platform: Platform;
  clock: ManualClock;
  identity: FakeIdentity;
  signer: EphemeralLicenseSigner;
  mails: LicensingMail[];
  close(): Promise<void>;
}

export async function createLicensingTestApp(
  databaseUrl: string,
  options: { products?: string[]; env?: Record<string, string>; logger?: Logger } = {},
): Promise<LicensingTestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'canopy-lic-'));
  const config = loadConfig({
    CANOPY_DATA_DIR: dataDir,
    CANOPY_LOG_LEVEL: 'silent',
    CANOPY_JOBS: 'false',
    CANOPY_DATABASE_URL: databaseUrl,
    CANOPY_RATE_LIMIT_PER_MINUTE: '100000',
    CANOPY_PUBLIC_URL: 'https://canopy.test',
    ...options.env,
  });
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const platform = await createPlatform(config, {
    logger: options.logger ?? pino({ level: 'silent' }),
    clock,
  });
  const identity = new FakeIdentity();
  const signer = new EphemeralLicenseSigner();
  const mails: LicensingMail[] = [];
  const licensing: LicensingModuleOptions = {
    ...(options.products ? { products: options.products } : {}),
    ports: {
      caller: identity.resolve,
      // Like the app's token cache, it knows a caller at once, so the tests go through the warm path too.
      validationCaller: Object.assign(identity.resolve, { known: identity.known }),
      signer,
      mailer: { send: async (m) => void mails.push(m) },
      orgs: { adminEmails: async (orgId) => identity.adminsOf(orgId), orgExists: async () => true },
    },
  };
  const deps: AppDeps & { licensing: LicensingModuleOptions } = { platform, webAppDir: null, licensing };
  const app = await buildApp(config, deps);
  return {
    app,
    deps,
    platform,
    clock,
    identity,
    signer,
    mails,
    close: async () => {
      await app.close();
      await platform.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `inject` with a bearer token and JSON. */
export function call(t: LicensingTestApp, token: string | undefined) {
  return async (
    method: 'GET' | 'POST' | 'DELETE' | 'PATCH' | 'PUT',
    url: string,
    payload?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await t.app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      ...(payload === undefined
        ? {}
        : typeof payload === 'string'
          ? { payload }
          : { payload: payload as object }),
    });
    return {
      status: res.statusCode,
      body: res.body ? (safeJson(res.body) as Record<string, unknown> & unknown[]) : undefined,
      text: res.body,
      headers: res.headers,
    };
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
