/**
 * The administration portal's API: an org admin sees and changes only their org's licences and seats. Someone
 * who is not a member of the org gets 404 (as for any other tenant's object); a member who is not an admin 403.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { forbidden, notFound } from '../../platform/errors.ts';
import { licensingErrors } from './errors.ts';
import { bearer, requireCaller } from './routes-client.ts';
import {
  CsvImportReport,
  Email,
  Id,
  LicenseView,
  ScimCredentialBody,
  ScimCredentialView,
  SeatView,
} from './schemas.ts';
import type { LicensingService } from './service.ts';

export function portalRoutes(app: FastifyInstance, service: LicensingService, csvBodyLimit: number): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const orgAdmin = async (request: FastifyRequest, orgId: string) => {
    const caller = await requireCaller(service.ctx.ports, request);
    const role = caller.orgs.get(orgId);
    if (!role) throw notFound('No such organisation.');
    if (role !== 'admin') throw forbidden('Only the organisation’s admins manage its licences.');
    return caller;
  };
  const common = {
    config: {
      access: 'custom' as const,
      accessNote: 'licensing resolves the caller and requires the admin role in :orgId (404 for non-members)',
    },
  };
  const tags = ['licensing-portal'];
  const Org = Type.Object({ orgId: Id });
  const OrgLicense = Type.Object({ orgId: Id, id: Id });
  const OrgLicenseSeat = Type.Object({ orgId: Id, id: Id, email: Email });

  app.addContentTypeParser(
    'text/csv',
    { parseAs: 'string', bodyLimit: csvBodyLimit },
    (_request, body, done) => done(null, body),
  );

  r.get(
    '/orgs/:orgId/licenses',
    {
      ...common,
      schema: {
        tags,
        summary: 'The org’s licences with used and available seats',
        security: bearer,
        params: Org,
        response: { 200: Type.Array(LicenseView) },
      },
    },
    async (request) => {
      await orgAdmin(request, request.params.orgId);
      return service.licences.listForOrg(request.params.orgId);
    },
  );

  r.get(
    '/orgs/:orgId/licenses/:id/seats',
    {
      ...common,
      schema: {
        tags,
        summary: 'A licence’s seats',
        security: bearer,
        params: OrgLicense,
        response: { 200: Type.Array(SeatView) },
      },
    },
    async (request) => {
      await orgAdmin(request, request.params.orgId);
      return service.seats.list(request.params.orgId, request.params.id);
    },
  );

  r.post(
    '/orgs/:orgId/licenses/:id/seats',
    {
      ...common,
      schema: {
        tags,
        summary: 'Assign a seat (409 seat_limit_reached when none is free)',
        security: bearer,
        params: OrgLicense,
        body: Type.Object({ email: Email }),
        response: { 201: SeatView },
      },
    },
    async (request, reply) => {
      const { orgId, id } = request.params;
      await orgAdmin(request, orgId);
      await service.seats.assign(orgId, id, request.body.email, 'portal');
      const seat = (await service.seats.list(orgId, id)).find(
        (s) => s.email === request.body.email.trim().toLowerCase(),
      );
      if (!seat) throw licensingErrors.seatNotFound();
      return reply.status(201).send(seat);
    },
  );

  r.delete(
    '/orgs/:orgId/licenses/:id/seats/:email',
    {
      ...common,
      schema: { tags, summary: 'Remove a seat (frees it)', security: bearer, params: OrgLicenseSeat },
    },
    async (request, reply) => {
      const { orgId, id, email } = request.params;
      await orgAdmin(request, orgId);
      await service.seats.remove(orgId, id, email);
      return reply.status(204).send();
    },
  );

  for (const action of ['deactivate', 'reactivate'] as const) {
    r.post(
      `/orgs/:orgId/licenses/:id/seats/:email/${action}`,
      {
        ...common,
        schema: {
          tags,
          summary:
            action === 'deactivate' ? 'Block the user; the seat stays taken' : 'Unblock a deactivated seat',
          security: bearer,
          params: OrgLicenseSeat,
          response: { 200: SeatView },
        },
      },
      async (request) => {
        const { orgId, id, email } = request.params;
        await orgAdmin(request, orgId);
        await service.seats[action](orgId, id, email);
        const seat = (await service.seats.list(orgId, id)).find(
          (s) => s.email === email.trim().toLowerCase(),
        );
        if (!seat) throw licensingErrors.seatNotFound();
        return seat;
      },
    );
  }

  r.get(
    '/orgs/:orgId/licenses/:id/seats.csv',
    {
      ...common,
      schema: {
        tags,
        summary: 'Export the seats as CSV (email,status,assigned_at)',
        security: bearer,
        params: OrgLicense,
        produces: ['text/csv'],
        response: { 200: Type.String() },
      },
    },
    async (request, reply) => {
      const { orgId, id } = request.params;
      await orgAdmin(request, orgId);
      const csv = await service.seats.exportCsv(orgId, id);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="seats-${id}.csv"`)
        .send(csv);
    },
  );

  r.post(
    '/orgs/:orgId/licenses/:id/seats.csv',
    {
      ...common,
      schema: {
        tags,
        summary: 'Import seats from CSV (email[,status]); reports each row',
        security: bearer,
        params: OrgLicense,
        consumes: ['text/csv'],
        body: Type.String({ description: 'CSV text' }),
        response: { 200: CsvImportReport },
      },
    },
    async (request) => {
      const { orgId, id } = request.params;
      await orgAdmin(request, orgId);
      return service.seats.importCsv(orgId, id, request.body);
    },
  );

  r.post(
    '/orgs/:orgId/scim/credentials',
    {
      ...common,
      schema: {
        tags,
        summary: 'A SCIM bearer secret that provisions one licence’s seats (shown once)',
        security: bearer,
        params: Org,
        body: ScimCredentialBody,
        response: { 201: ScimCredentialView },
      },
    },
    async (request, reply) => {
      await orgAdmin(request, request.params.orgId);
      return reply
        .status(201)
        .send(await service.scim.createCredential(request.params.orgId, request.body.licenseId));
    },
  );

  r.delete(
    '/orgs/:orgId/scim/credentials/:credentialId',
    {
      ...common,
      schema: {
        tags,
        summary: 'Revoke a SCIM secret',
        security: bearer,
        params: Type.Object({ orgId: Id, credentialId: Id }),
      },
    },
    async (request, reply) => {
      await orgAdmin(request, request.params.orgId);
      await service.scim.deleteCredential(request.params.orgId, request.params.credentialId);
      return reply.status(204).send();
    },
  );
}
