/**
 * Security headers, CORS (off unless origins are configured), and rate limits (per client IP, counted in
 * Redis when it is configured so that every node shares one budget).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import type { Redis } from 'ioredis';
import type { Config } from '../../config.ts';
import { rateLimited } from '../errors.ts';

export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  // 'wasm-unsafe-eval' lets a page compile WebAssembly (Loro, the co-editing model, in the editor); it does not
  // allow eval or inline scripts. docs/security.md says why it is needed and what it does not open.
  scriptSrc: ["'self'", "'wasm-unsafe-eval'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:', 'blob:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  upgradeInsecureRequests: null,
};

const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
  // HSTS is sent below, only on HTTPS requests (natively or via a trusted proxy).
  hsts: false,
  referrerPolicy: { policy: 'no-referrer' },
  crossOriginEmbedderPolicy: false,
};

/**
 * helmet's headers for our options, computed once. They depend on nothing in the request (no CSP nonces), and
 * @fastify/helmet rebuilt helmet, re-parsing the CSP, on every request: several percent of the CPU of a small
 * JSON answer such as licence validation (bench/license-validate).
 */
export function securityHeaders(options: HelmetOptions = HELMET_OPTIONS): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string | number) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  // (helmet 8 throws on bad options itself; `next` is only called to go on.)
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, () => {});
  return headers;
}

/**
 * The headers of an API answer (JSON, or a file as a download; never a page to render): the OWASP REST Security
 * Cheat Sheet's set. Its CSP is stricter than a page's (nothing may load, nothing may frame it); the document-only
 * headers helmet adds for pages (COOP, Origin-Agent-Cluster, X-DNS-Prefetch-Control, X-Download-Options,
 * X-Permitted-Cross-Domain-Policies, X-XSS-Protection) mean nothing on a JSON answer and cost every API request,
 * licence validation above all (bench/license-validate).
 */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

const HSTS = 'max-age=31536000; includeSubDomains';

export async function installSecurity(
  app: FastifyInstance,
  config: Config,
  redis: Redis | undefined,
  apiPrefix = '/api/v1',
): Promise<void> {
  const pageHeaders = securityHeaders();
  const apiPrefixSlash = `${apiPrefix}/`;
  // (Callback style: an async hook costs a promise per response, on every route.)
  app.addHook('onRequest', (request, reply, done) => {
    void reply.headers(request.url.startsWith(apiPrefixSlash) ? API_SECURITY_HEADERS : pageHeaders);
    // HTTPS natively, or behind a trusted proxy that says so (request.protocol honours trustProxy only).
    if (request.protocol === 'https') void reply.header('strict-transport-security', HSTS);
    done();
  });

  if (config.corsOrigins.length) {
    const allowed = new Set(config.corsOrigins);
    app.addHook('onRequest', async (request, reply) => {
      const origin = request.headers.origin;
      if (!origin || !allowed.has(origin)) return;
      void reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
      if (request.method === 'OPTIONS') {
        void reply
          .header('access-control-allow-methods', 'GET,POST,PUT,PATCH,DELETE')
          .header('access-control-allow-headers', 'authorization,content-type,x-csrf-token,x-canopy-org')
          .header('access-control-max-age', '600')
          .status(204)
          .send();
      }
    });
  }

  await app.register(rateLimit, {
    global: true,
    max: config.rateLimitPerMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => request.ip,
    ...(redis ? { redis, nameSpace: 'canopy-rl:' } : {}),
    // Health probes and metrics opt out per route (`config.rateLimit: false`, health.ts): an allow-list function
    // here would run, awaited, on every request of every route.
    errorResponseBuilder: (_request, context) => rateLimited(context.ttl / 1000),
  });
}
