/**
 * buildApp(config, deps): the platform's HTTP layer first, then the modules, in one explicit list.
 * It builds and does not listen: main.ts listens, tests call `app.inject()`.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from './config.ts';
import type { Platform } from './platform/index.ts';
import { installAuth } from './platform/http/auth.ts';
import { installHealthRoutes } from './platform/http/health.ts';
import {
  createMetrics,
  installHttpMetrics,
  registerPoolGauges,
  type Metrics,
} from './platform/http/metrics.ts';
import { installOpenApi } from './platform/http/openapi.ts';
import { frameworkProblem, installProblemHandlers } from './platform/http/problem.ts';
import { installSecurity } from './platform/http/security.ts';
import { installWebApp } from './platform/http/web-app.ts';
import { LazyRequestLogger, type Logger } from './platform/log.ts';
import { identityModule } from './modules/identity/index.ts';
import { collabPlugin, type CollabModuleOptions } from './modules/collab/index.ts';
import { mapsPlugin, type MapsModuleOptions } from './modules/maps/index.ts';
import { licensingPlugin } from './modules/licensing/index.ts';

export const API_PREFIX = '/api/v1';
export const VERSION = '0.1.0';

export interface AppDeps {
  platform: Platform;
  /** Extra plugins registered after the modules (tests; embedding). */
  plugins?: ((app: FastifyInstance) => Promise<void>)[];
  /** Where the built web app is; null: serve no web app (API-only tests). Default: apps/web/dist. */
  webAppDir?: string | null;
  /** Ports of the maps module (identity, cipher, formats) where the defaults are not wanted (tests). */
  maps?: MapsModuleOptions;
  /** Options of the collab module (pub/sub bus, limits, write-back hook). */
  collab?: CollabModuleOptions;
}

export interface RouteEntry {
  method: string;
  url: string;
  hidden: boolean;
}

export type App = FastifyInstance & { metrics: Metrics; routeList: RouteEntry[] };

/** The modules, in start order. Each is a Fastify plugin registered under API_PREFIX. */
const modules: { name: string; plugin: (app: FastifyInstance, deps: AppDeps) => Promise<void> }[] = [
  { name: 'identity', plugin: identityModule },
  { name: 'maps', plugin: mapsPlugin },
  { name: 'licensing', plugin: licensingPlugin },
  { name: 'collab', plugin: collabPlugin },
];

export async function buildApp(config: Config, deps: AppDeps): Promise<App> {
  const options: FastifyServerOptions & { https?: { cert: Buffer; key: Buffer } } = {
    loggerInstance: deps.platform.logger,
    // The request log carries id, method, route and status; never the IP, headers or body (platform/log.ts).
    logController: new LogController({ disableRequestLogging: true }),
    // The request's child logger is made only when the request logs (platform/log.ts).
    childLoggerFactory: (logger, bindings, options) =>
      new LazyRequestLogger(logger as Logger, bindings, options),
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    trustProxy: config.trustProxy,
    bodyLimit: config.bodyLimitBytes,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: true } },
    frameworkErrors: (error, request, reply) => void frameworkProblem(error, request, reply),
  };
  if (config.tls) {
    options.https = { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) };
  }
  const app = Fastify(options).withTypeProvider<TypeBoxTypeProvider>() as unknown as FastifyInstance;

  const metrics = createMetrics();
  registerPoolGauges(metrics, () => deps.platform.database.poolStats());
  deps.platform.jobs.observe((job, outcome) => metrics.jobsRun.inc({ job, outcome }));
  app.decorate('metrics', metrics);
  const routeList: RouteEntry[] = [];
  app.decorate('routeList', routeList);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const hidden = Boolean(route.schema?.hide) || route.url.startsWith('/api/docs');
    for (const method of methods) if (method !== 'HEAD') routeList.push({ method, url: route.url, hidden });
  });

  // (Callback-style hooks: an async hook costs a promise and a microtask per request, on every route.)
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
    done();
  });

  installProblemHandlers(app);
  // Before any route: every route is classified by who may call it, and checked (platform/http/auth.ts).
  installAuth(app);
  await installSecurity(app, config, deps.platform.redis, API_PREFIX);
  await installOpenApi(app, VERSION);
  installHttpMetrics(app, metrics);
  installHealthRoutes(app, config, deps.platform.readiness, metrics);

  for (const mod of modules) {
    await app.register(async (scoped) => mod.plugin(scoped, deps), { prefix: API_PREFIX });
  }
  for (const plugin of deps.plugins ?? []) await app.register(plugin);
  if (deps.webAppDir !== null) await installWebApp(app, deps.webAppDir);
  await app.ready();
  return app as App;
}
