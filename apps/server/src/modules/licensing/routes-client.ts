/** The routes a client app calls: validate (every start), the JWKS, machines, and the user's own seats. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { unauthenticated } from '../../platform/errors.ts';
import type { RouteBudget } from '../../platform/http/route-budget.ts';
import { CredentialCache } from './credential-cache.ts';
import type { LicensingCaller, LicensingPorts } from './ports.ts';
import {
  ActivateBody,
  ActivationView,
  Id,
  JwksSchema,
  MySeatView,
  ValidateBody,
  ValidateReply,
} from './schemas.ts';
import type { LicensingService } from './service.ts';

/** The validation route sends its warm answers as ready JSON (same fields as the response schema). */
const JSON_UTF8 = 'application/json; charset=utf-8';

export const bearer = [{ bearer: [] }];
const CALLER_NOTE = 'licensing resolves the caller through its caller port (the auth gate + account lookup)';

export async function requireCaller(
  ports: LicensingPorts,
  request: FastifyRequest,
): Promise<LicensingCaller> {
  const caller = await ports.caller(request);
  if (!caller) throw unauthenticated();
  return caller;
}

export function clientRoutes(app: FastifyInstance, service: LicensingService, budget: RouteBudget): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const ports = service.ctx.ports;
  const credentials = new CredentialCache(() => service.ctx.clock.now().getTime());
  /** The rate-limit bucket of a validation request: its bearer credential's digest, else its address. */
  const validationRateKey = (request: FastifyRequest) => {
    const derived = credentials.of(request.headers.authorization);
    return derived ? derived.rateKey : request.ip;
  };

  r.post(
    '/licenses/validate',
    {
      config: {
        access: 'custom' as const,
        accessNote: CALLER_NOTE,
        // Every client start validates, and a whole office often shares one address: the platform's per-IP
        // budget would throttle the office. So this route counts per bearer credential (its digest: the key may
        // sit in Redis), with the same per-minute budget; a request without one still counts per IP. It is
        // counted by the route budget below instead of @fastify/rate-limit (platform/http/route-budget.ts says
        // why), which sends the budget headers only with a 429, never on the answers no client reads them on.
        rateLimit: false,
      },
      onRequest: budget.hook(validationRateKey),
      // No info-level request line per validation (one per client start, the bulk of all requests): the
      // metrics histogram counts them, and warnings and errors are still logged.
      logLevel: 'warn',
      schema: {
        tags: ['licensing'],
        summary: 'Validate the caller’s licence for a product (always 200; see `code`)',
        security: bearer,
        body: ValidateBody,
        response: { 200: ValidateReply },
      },
    },
    (request, reply) => {
      const derived = credentials.of(request.headers.authorization);
      // A warm answer for a caller known a moment ago is served without a single await (validator.warmJson).
      const known = ports.validationCaller.known?.(request);
      const warm = known && service.validator.warmJson(known, request.body, derived?.macKey);
      // (Untyped send: the JSON is ready, the schema's serialiser is skipped for a string with a JSON type.)
      if (warm) return void (reply as FastifyReply).type(JSON_UTF8).send(warm);
      return (async () => {
        const caller = await ports.validationCaller(request);
        if (!caller) throw unauthenticated();
        return service.validator.validate(caller, request.body, derived?.macKey);
      })();
    },
  );

  r.get(
    '/licenses/keys',
    {
      config: { access: 'public' as const },
      schema: {
        tags: ['licensing'],
        summary: 'Public keys (JWKS) that verify licence tokens offline; retired keys stay listed',
        response: { 200: JwksSchema },
      },
    },
    async (_request, reply) => {
      void reply.header('cache-control', 'public, max-age=300');
      return ports.signer.jwks('license');
    },
  );

  r.get(
    '/licenses/mine',
    {
      config: { access: 'custom' as const, accessNote: CALLER_NOTE },
      schema: {
        tags: ['licensing'],
        summary: 'The caller’s own seats, in every org',
        security: bearer,
        response: { 200: Type.Array(MySeatView) },
      },
    },
    async (request) => service.mySeats(await requireCaller(ports, request)),
  );

  r.post(
    '/licenses/activations',
    {
      config: { access: 'custom' as const, accessNote: CALLER_NOTE },
      schema: {
        tags: ['licensing'],
        summary: 'Activate this machine (409 too_many_machines or license_inactive when refused)',
        security: bearer,
        body: ActivateBody,
        response: { 201: ActivationView },
      },
    },
    async (request, reply) => {
      const view = await service.activations.activate(await requireCaller(ports, request), request.body);
      return reply.status(201).send(view);
    },
  );

  r.post(
    '/licenses/activations/:id/heartbeat',
    {
      config: { access: 'custom' as const, accessNote: CALLER_NOTE },
      schema: {
        tags: ['licensing'],
        summary: 'Keep a machine alive (404 once it is dead: validate again)',
        security: bearer,
        params: Type.Object({ id: Id }),
        response: { 200: ActivationView },
      },
    },
    async (request) => service.activations.heartbeat(await requireCaller(ports, request), request.params.id),
  );

  r.delete(
    '/licenses/activations/:id',
    {
      config: { access: 'custom' as const, accessNote: CALLER_NOTE },
      schema: {
        tags: ['licensing'],
        summary: 'Release a machine (frees its slot)',
        security: bearer,
        params: Type.Object({ id: Id }),
      },
    },
    async (request, reply) => {
      await service.activations.release(await requireCaller(ports, request), request.params.id);
      return reply.status(204).send();
    },
  );
}
