/** /healthz (the process is up), /readyz (its dependencies answer) and /metrics (Prometheus text). */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Config } from '../../config.ts';
import { forbidden } from '../errors.ts';
import type { ReadinessCheck } from '../index.ts';
import type { Metrics } from './metrics.ts';

const CheckResult = Type.Object({
  name: Type.String(),
  ok: Type.Boolean(),
  error: Type.Optional(Type.String()),
});

function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}

export function installHealthRoutes(
  app: FastifyInstance,
  config: Config,
  checks: readonly ReadinessCheck[],
  metrics: Metrics,
): void {
  // Probes and scrapes come from the orchestrator, often from one address: none of these routes is rate limited.
  const unlimited = { rateLimit: false as const };
  app.get(
    '/healthz',
    {
      config: unlimited,
      schema: { tags: ['operations'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: unlimited,
      schema: {
        tags: ['operations'],
        response: {
          200: Type.Object({ status: Type.String(), checks: Type.Array(CheckResult) }),
          503: Type.Object({ status: Type.String(), checks: Type.Array(CheckResult) }),
        },
      },
    },
    async (_request, reply) => {
      const results = await Promise.all(
        checks.map(async (c) => {
          try {
            await withTimeout(c.check(), 2_000);
            return { name: c.name, ok: true };
          } catch (err) {
            return { name: c.name, ok: false, error: err instanceof Error ? err.message : String(err) };
          }
        }),
      );
      const ok = results.every((r) => r.ok);
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not_ready', checks: results });
    },
  );

  app.get(
    '/metrics',
    { config: unlimited, schema: { tags: ['operations'], produces: ['text/plain'] } },
    async (request, reply) => {
      if (config.metricsAllow === 'none' || (config.metricsAllow === 'loopback' && !isLoopback(request.ip))) {
        throw forbidden('Metrics are not served to this address (CANOPY_METRICS_ALLOW).');
      }
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    },
  );
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
