/** Operator (vendor) routes under /admin: issue licences, list, suspend, reinstate, extend; policies. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { forbidden } from '../../platform/errors.ts';
import { bearer, requireCaller } from './routes-client.ts';
import { ExtendBody, Id, IssueLicenseBody, IssuedLicense, LicenseView, PolicySchema } from './schemas.ts';
import type { LicensingService } from './service.ts';

export function adminRoutes(app: FastifyInstance, service: LicensingService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const operator = async (request: FastifyRequest) => {
    const caller = await requireCaller(service.ctx.ports, request);
    if (!caller.operator) throw forbidden('This needs the operator role.');
    return caller;
  };
  const common = {
    config: {
      access: 'custom' as const,
      accessNote: 'licensing resolves the caller (auth gate + account lookup) and requires the operator role',
    },
  };
  const IdParams = Type.Object({
    id: Type.String({ minLength: 1, maxLength: 64, description: 'licence id or key' }),
  });

  r.post(
    '/admin/licenses',
    {
      ...common,
      schema: {
        tags: ['licensing-admin'],
        summary: 'Issue a licence to an org',
        security: bearer,
        body: IssueLicenseBody,
        response: { 201: IssuedLicense },
      },
    },
    async (request, reply) => {
      await operator(request);
      return reply.status(201).send(await service.licences.issue(request.body));
    },
  );

  r.get(
    '/admin/licenses',
    {
      ...common,
      schema: {
        tags: ['licensing-admin'],
        summary: 'All licences (optionally of one org)',
        security: bearer,
        querystring: Type.Object({ orgId: Type.Optional(Id) }),
        response: { 200: Type.Array(LicenseView) },
      },
    },
    async (request) => {
      await operator(request);
      return service.licences.list(request.query.orgId);
    },
  );

  r.get(
    '/admin/licenses/:id',
    {
      ...common,
      schema: {
        tags: ['licensing-admin'],
        summary: 'One licence',
        security: bearer,
        params: IdParams,
        response: { 200: LicenseView },
      },
    },
    async (request) => {
      await operator(request);
      return service.licences.get(request.params.id);
    },
  );

  for (const action of ['suspend', 'reinstate'] as const) {
    r.post(
      `/admin/licenses/:id/${action}`,
      {
        ...common,
        schema: {
          tags: ['licensing-admin'],
          summary: action === 'suspend' ? 'Suspend a licence' : 'Lift a suspension',
          security: bearer,
          params: IdParams,
          response: { 200: LicenseView },
        },
      },
      async (request) => {
        await operator(request);
        return service.licences[action](request.params.id);
      },
    );
  }

  r.post(
    '/admin/licenses/:id/extend',
    {
      ...common,
      schema: {
        tags: ['licensing-admin'],
        summary: 'Move a licence’s expiry (null: never expires)',
        security: bearer,
        params: IdParams,
        body: ExtendBody,
        response: { 200: LicenseView },
      },
    },
    async (request) => {
      await operator(request);
      const at = request.body.expiresAt;
      return service.licences.extend(request.params.id, at === null ? null : Date.parse(at));
    },
  );

  r.get(
    '/admin/license-policies',
    {
      ...common,
      schema: {
        tags: ['licensing-admin'],
        summary: 'Licence policies',
        security: bearer,
        response: { 200: Type.Array(PolicySchema) },
      },
    },
    async (request) => {
      await operator(request);
      return service.policies.all();
    },
  );

  r.post(
    '/admin/license-policies',
    {
      ...common,
      schema: {
        tags: ['licensing-admin'],
        summary: 'Create a licence policy',
        security: bearer,
        body: PolicySchema,
        response: { 201: PolicySchema },
      },
    },
    async (request, reply) => {
      await operator(request);
      return reply.status(201).send(await service.policies.create(request.body));
    },
  );
}
