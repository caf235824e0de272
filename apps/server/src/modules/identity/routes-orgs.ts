/** Organisations: create, read, members and roles, invitations, the audit log; and the operator's audit view. */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { SYSTEM_TENANT } from '../../platform/crypto/index.ts';
import { requireAuth } from '../../platform/http/auth.ts';
import {
  AuditEventSchema,
  AuditQuery,
  InvitationBody,
  InvitationReply,
  MemberParams,
  MemberSchema,
  NoContent,
  OrgCreateBody,
  OrgParams,
  OrgSchema,
  problems,
  RoleBody,
  TokenBody,
} from './schemas.ts';
import { newId } from './secrets.ts';
import type { IdentityService } from './service.ts';

export function orgRoutes(fastify: FastifyInstance, identity: IdentityService): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['orgs'];

  app.post(
    '/orgs',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Creates an org with the caller as admin',
        body: OrgCreateBody,
        response: { 201: OrgSchema, ...problems(400, 401) },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      const org = await identity.orgs.create(newId(), auth.accountId, request.body.name, false);
      await identity.deps.audit.record(org.id, {
        action: 'org.created',
        actorId: auth.accountId,
        subjectId: org.id,
        ip: request.ip,
      });
      return reply.status(201).send(org);
    },
  );

  app.get(
    '/orgs/:orgId',
    {
      config: { access: 'org-member' },
      schema: {
        tags,
        summary: 'The org and the caller’s role in it',
        params: OrgParams,
        response: { 200: OrgSchema, ...problems(401, 404) },
      },
    },
    async (request) => identity.orgs.get(request.params.orgId, requireAuth(request).accountId),
  );

  app.get(
    '/orgs/:orgId/members',
    {
      config: { access: 'org-member' },
      schema: {
        tags,
        summary: 'The members and their roles',
        params: OrgParams,
        response: { 200: Type.Array(MemberSchema), ...problems(401, 404) },
      },
    },
    async (request) => identity.orgs.members(request.params.orgId),
  );

  app.patch(
    '/orgs/:orgId/members/:accountId',
    {
      config: { access: 'org-admin' },
      schema: {
        tags,
        summary: 'Changes a member’s role (an org keeps at least one admin)',
        params: MemberParams,
        body: RoleBody,
        response: { 204: NoContent, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await identity.orgs.setRole(
        request.params.orgId,
        request.params.accountId,
        request.body.role,
        identity.caller(request),
      );
      return reply.status(204).send(null);
    },
  );

  app.delete(
    '/orgs/:orgId/members/:accountId',
    {
      config: { access: 'org-admin' },
      schema: {
        tags,
        summary: 'Removes a member',
        params: MemberParams,
        response: { 204: NoContent, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await identity.orgs.removeMember(
        request.params.orgId,
        request.params.accountId,
        identity.caller(request),
      );
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/orgs/:orgId/invitations',
    {
      config: { access: 'org-admin' },
      schema: {
        tags,
        summary: 'Invites someone by email',
        params: OrgParams,
        body: InvitationBody,
        response: { 201: InvitationReply, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      const invitation = await identity.orgs.invite(
        request.params.orgId,
        request.body.email,
        request.body.role,
        { ip: request.ip, accountId: auth.accountId },
      );
      return reply.status(201).send(invitation);
    },
  );

  app.post(
    '/invitations/accept',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Joins the org of an invitation sent to the caller’s email',
        body: TokenBody,
        response: { 200: OrgSchema, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      const account = await identity.accounts.open(await identity.accountRow(auth.accountId));
      return identity.orgs.accept(request.body.token, account, identity.caller(request));
    },
  );

  app.get(
    '/orgs/:orgId/audit',
    {
      config: { access: 'org-admin' },
      schema: {
        tags,
        summary: 'Security events of the org (who, what, when; the client IP for 30 days)',
        params: OrgParams,
        querystring: AuditQuery,
        response: { 200: Type.Array(AuditEventSchema), ...problems(401, 403, 404) },
      },
    },
    async (request) => identity.deps.audit.list(request.params.orgId, request.query),
  );

  app.get(
    '/admin/audit',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['operations'],
        summary: 'Platform-level security events (unknown-email login failures, deletions, operator setup)',
        querystring: AuditQuery,
        response: { 200: Type.Array(AuditEventSchema), ...problems(401, 403) },
      },
    },
    async (request) => identity.deps.audit.list(SYSTEM_TENANT, request.query),
  );
}
