/**
 * SCIM 2.0 endpoints (`/scim/v2/...`), authenticated by the org's SCIM bearer secret, answering in
 * `application/scim+json` with SCIM error bodies (RFC 7644 §3.12) rather than problem+json.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../platform/errors.ts';
import { ScimError } from './scim-resources.ts';
import type { ScimPrincipal } from './scim.ts';
import type { LicensingService } from './service.ts';

const SCIM_TYPE = 'application/scim+json; charset=utf-8';

export async function scimRoutes(app: FastifyInstance, service: LicensingService): Promise<void> {
  const scim = service.scim;
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  app.addContentTypeParser(
    'application/scim+json',
    { parseAs: 'string' },
    app.getDefaultJsonParser('error', 'ignore'),
  );

  app.setErrorHandler((error: FastifyError | ScimError | AppError, request, reply) => {
    let e: ScimError;
    if (error instanceof ScimError) e = error;
    else if ((error as FastifyError).validation) e = new ScimError(400, error.message, 'invalidValue');
    else if (error instanceof AppError && error.status < 500) e = new ScimError(error.status, error.message);
    else if ((error as FastifyError).statusCode && ((error as FastifyError).statusCode ?? 500) < 500) {
      e = new ScimError((error as FastifyError).statusCode ?? 400, error.message, 'invalidSyntax');
    } else {
      request.log.error({ err: error }, 'SCIM request failed');
      e = new ScimError(500, 'internal error; quote the request id ' + request.id);
    }
    return reply.status(e.status).type(SCIM_TYPE).send(e.toJSON());
  });

  const principal = (request: FastifyRequest): Promise<ScimPrincipal> =>
    scim.authenticate(request.headers.authorization);
  const send = (reply: FastifyReply, status: number, body: unknown) =>
    reply.status(status).type(SCIM_TYPE).send(body);
  const common = {
    config: { access: 'custom' as const, accessNote: 'the org’s SCIM bearer secret (stored hashed)' },
  };
  const tags = ['scim'];
  const security = [{ bearer: [] }];
  const Resource = Type.Object({}, { additionalProperties: true, description: 'a SCIM resource (RFC 7643)' });
  const Patch = Type.Object(
    { Operations: Type.Optional(Type.Array(Type.Unknown())) },
    { additionalProperties: true, description: 'SCIM PatchOp (RFC 7644 §3.5.2)' },
  );
  const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
  const ListQuery = Type.Object({
    filter: Type.Optional(Type.String({ maxLength: 512 })),
    startIndex: Type.Optional(Type.Integer({ minimum: 1 })),
    count: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  });

  r.get(
    '/scim/v2/ServiceProviderConfig',
    { ...common, schema: { tags, summary: 'What this SCIM service supports' } },
    async (_request, reply) =>
      send(reply, 200, {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
        patch: { supported: true },
        bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
        filter: { supported: true, maxResults: 1000 },
        changePassword: { supported: false },
        sort: { supported: false },
        etag: { supported: false },
        authenticationSchemes: [
          { type: 'oauthbearertoken', name: 'Bearer secret', description: 'per-org SCIM secret' },
        ],
      }),
  );

  r.post(
    '/scim/v2/Users',
    { ...common, schema: { tags, summary: 'Provision a user (takes a seat)', security, body: Resource } },
    async (request, reply) => send(reply, 201, await scim.createUser(await principal(request), request.body)),
  );
  r.get(
    '/scim/v2/Users',
    {
      ...common,
      schema: {
        tags,
        summary: 'List or find users (userName/externalId eq)',
        security,
        querystring: ListQuery,
      },
    },
    async (request, reply) => send(reply, 200, await scim.listUsers(await principal(request), request.query)),
  );
  r.get(
    '/scim/v2/Users/:id',
    { ...common, schema: { tags, summary: 'One user', security, params: IdParam } },
    async (request, reply) =>
      send(reply, 200, await scim.getUser(await principal(request), request.params.id)),
  );
  r.put(
    '/scim/v2/Users/:id',
    { ...common, schema: { tags, summary: 'Replace a user', security, params: IdParam, body: Resource } },
    async (request, reply) =>
      send(reply, 200, await scim.replaceUser(await principal(request), request.params.id, request.body)),
  );
  r.patch(
    '/scim/v2/Users/:id',
    {
      ...common,
      schema: {
        tags,
        summary: 'Patch a user (active:false deactivates the seat)',
        security,
        params: IdParam,
        body: Patch,
      },
    },
    async (request, reply) =>
      send(reply, 200, await scim.patchUser(await principal(request), request.params.id, request.body)),
  );
  r.delete(
    '/scim/v2/Users/:id',
    {
      ...common,
      schema: { tags, summary: 'Deprovision a user (frees the seat)', security, params: IdParam },
    },
    async (request, reply) => {
      await scim.deleteUser(await principal(request), request.params.id);
      return reply.status(204).send();
    },
  );

  r.post(
    '/scim/v2/Groups',
    { ...common, schema: { tags, summary: 'Create a group', security, body: Resource } },
    async (request, reply) =>
      send(reply, 201, await scim.createGroup(await principal(request), request.body)),
  );
  r.get(
    '/scim/v2/Groups',
    {
      ...common,
      schema: { tags, summary: 'List or find groups (displayName eq)', security, querystring: ListQuery },
    },
    async (request, reply) =>
      send(reply, 200, await scim.listGroups(await principal(request), request.query)),
  );
  r.get(
    '/scim/v2/Groups/:id',
    { ...common, schema: { tags, summary: 'One group', security, params: IdParam } },
    async (request, reply) =>
      send(reply, 200, await scim.getGroup(await principal(request), request.params.id)),
  );
  r.put(
    '/scim/v2/Groups/:id',
    { ...common, schema: { tags, summary: 'Replace a group', security, params: IdParam, body: Resource } },
    async (request, reply) =>
      send(reply, 200, await scim.replaceGroup(await principal(request), request.params.id, request.body)),
  );
  r.patch(
    '/scim/v2/Groups/:id',
    {
      ...common,
      schema: {
        tags,
        summary: 'Patch a group (members, displayName)',
        security,
        params: IdParam,
        body: Patch,
      },
    },
    async (request, reply) =>
      send(reply, 200, await scim.patchGroup(await principal(request), request.params.id, request.body)),
  );
  r.delete(
    '/scim/v2/Groups/:id',
    { ...common, schema: { tags, summary: 'Delete a group', security, params: IdParam } },
    async (request, reply) => {
      await scim.deleteGroup(await principal(request), request.params.id);
      return reply.status(204).send();
    },
  );
}
