/** Login (password and SRP-6a), logout, re-authentication, and the caller's own sessions. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { notFound } from '../../platform/errors.ts';
import { CSRF_HEADER, csrfTokenFor, requireAuth, setSessionCookie } from '../../platform/http/auth.ts';
import type { LoginResult } from './login.ts';
import {
  LoginBody,
  NoContent,
  problems,
  ReauthBody,
  SessionCreated,
  SessionParams,
  SessionSchema,
  SrpFinishBody,
  SrpSessionCreated,
  SrpStartBody,
  SrpStartReply,
} from './schemas.ts';
import type { IdentityService } from './service.ts';

export function sessionRoutes(fastify: FastifyInstance, identity: IdentityService): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['sessions'];
  const absoluteSeconds = identity.deps.settings.sessionAbsoluteMs / 1000;

  const issue = <T extends LoginResult>(request: FastifyRequest, reply: FastifyReply, result: T) => {
    setSessionCookie(request, reply, result.token, absoluteSeconds);
    const csrfToken = csrfTokenFor(result.token);
    return reply
      .status(201)
      .header(CSRF_HEADER, csrfToken)
      .send({ ...result, csrfToken });
  };

  app.post(
    '/sessions',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Logs in with email and password (and the TOTP code when MFA is on)',
        description:
          'Sets the session cookie too. 401 invalid_credentials for a wrong email or password alike; mfa_required / invalid_totp for the second step.',
        body: LoginBody,
        response: { 201: SessionCreated, ...problems(400, 401, 429) },
      },
    },
    async (request, reply) =>
      issue(request, reply, await identity.login.withPassword(request.body, identity.caller(request))),
  );

  app.post(
    '/sessions/srp/start',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary:
          'SRP-6a step 1: the salt and the server public value B (a stable decoy salt for unknown emails)',
        body: SrpStartBody,
        response: { 200: SrpStartReply, ...problems(400, 429) },
      },
    },
    async (request) => identity.login.srpStart(request.body, identity.caller(request)),
  );

  app.post(
    '/sessions/srp/finish',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'SRP-6a step 2: the client proof M1; answers the session and the server proof M2',
        description:
          'A challenge is used once and lives 2 minutes; after mfa_required start again with the code.',
        body: SrpFinishBody,
        response: { 201: SrpSessionCreated, ...problems(400, 401, 429) },
      },
    },
    async (request, reply) =>
      issue(request, reply, await identity.login.srpFinish(request.body, identity.caller(request))),
  );

  app.delete(
    '/sessions/current',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Logs out (revokes this session)',
        response: { 204: NoContent, ...problems(401) },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      await identity.sessions.revoke(auth.accountId, auth.sessionId);
      await identity.deps.audit.record(auth.homeTenantId, {
        action: 'session.revoked',
        actorId: auth.accountId,
        subjectId: auth.sessionId,
        detail: { reason: 'logout' },
        ip: request.ip,
      });
      setSessionCookie(request, reply, '', 0);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/sessions/current/reauth',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Re-authenticates this session with the password (and TOTP code), for the sensitive routes',
        body: ReauthBody,
        response: {
          200: Type.Object({ reauthenticatedUntil: Type.String({ format: 'date-time' }) }),
          ...problems(400, 401, 429),
        },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      const row = await identity.accountRow(auth.accountId);
      const at = await identity.login.reauthenticate(
        row,
        auth.sessionId,
        request.body,
        identity.caller(request),
      );
      return { reauthenticatedUntil: new Date(at + identity.deps.settings.reauthWindowMs).toISOString() };
    },
  );

  app.get(
    '/sessions',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: "The caller's live sessions",
        response: { 200: Type.Array(SessionSchema), ...problems(401) },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      const list = await identity.sessions.list(auth.accountId);
      return list.map((s) => ({ ...s, current: s.id === auth.sessionId }));
    },
  );

  app.delete(
    '/sessions/:sessionId',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Revokes one of the caller’s sessions',
        params: SessionParams,
        response: { 204: NoContent, ...problems(401, 404) },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      if (!(await identity.sessions.revoke(auth.accountId, request.params.sessionId))) throw notFound();
      const row = await identity.accountRow(auth.accountId);
      await identity.deps.audit.record(row.tenant_id, {
        action: 'session.revoked',
        actorId: auth.accountId,
        subjectId: request.params.sessionId,
        ip: request.ip,
      });
      if (request.params.sessionId === auth.sessionId) setSessionCookie(request, reply, '', 0);
      return reply.status(204).send(null);
    },
  );
}
