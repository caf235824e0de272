/** The caller's own account: profile, MFA, password, GDPR export and deletion. */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireAuth, setSessionCookie } from '../../platform/http/auth.ts';
import { nowMs } from './deps.ts';
import {
  EmailChangeBody,
  ExportReply,
  MeReply,
  MeUpdateBody,
  NoContent,
  Ok,
  PasswordChangeBody,
  problems,
  TotpConfirmBody,
  TotpConfirmReply,
  TotpSetupReply,
} from './schemas.ts';
import type { IdentityService } from './service.ts';

export function meRoutes(fastify: FastifyInstance, identity: IdentityService): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['me'];
  const access = { access: 'authenticated' as const };

  const me = async (accountId: string) => {
    const account = await identity.accounts.open(await identity.accountRow(accountId));
    return {
      id: account.id,
      email: account.email,
      firstName: account.firstName,
      lastName: account.lastName,
      emailVerified: account.emailVerified,
      mfaEnabled: account.mfaEnabled,
      operator: account.operator,
      orgs: await identity.orgs.listForAccount(account.id),
    };
  };

  app.get(
    '/me',
    {
      config: access,
      schema: {
        tags,
        summary: 'The account, its orgs and roles',
        response: { 200: MeReply, ...problems(401) },
      },
    },
    async (request) => me(requireAuth(request).accountId),
  );

  app.patch(
    '/me',
    {
      config: access,
      schema: {
        tags,
        summary: 'Changes the first or last name',
        body: MeUpdateBody,
        response: { 200: MeReply, ...problems(400, 401) },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      const row = await identity.accountRow(auth.accountId);
      const values: { first_name_sealed?: Buffer; last_name_sealed?: Buffer; updated_at: number } = {
        updated_at: nowMs(identity.deps),
      };
      if (request.body.firstName !== undefined)
        values.first_name_sealed = await identity.accounts.seal(
          row,
          'first_name_sealed',
          request.body.firstName,
        );
      if (request.body.lastName !== undefined)
        values.last_name_sealed = await identity.accounts.seal(
          row,
          'last_name_sealed',
          request.body.lastName,
        );
      await identity.accounts.update(row.id, values);
      return me(auth.accountId);
    },
  );

  app.post(
    '/me/mfa/totp',
    {
      config: access,
      schema: {
        tags,
        summary: 'Starts TOTP enrolment (needs a recent password proof)',
        response: { 200: TotpSetupReply, ...problems(401, 409) },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      identity.requireRecentAuth(auth);
      return identity.mfa.begin(await identity.accountRow(auth.accountId));
    },
  );

  app.post(
    '/me/mfa/totp/confirm',
    {
      config: access,
      schema: {
        tags,
        summary: 'Turns TOTP on with a code from the new secret; answers the recovery codes once',
        body: TotpConfirmBody,
        response: { 200: TotpConfirmReply, ...problems(400, 401, 409) },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      identity.requireRecentAuth(auth);
      const recoveryCodes = await identity.mfa.confirm(
        await identity.accountRow(auth.accountId),
        request.body.code,
        identity.caller(request),
      );
      return { recoveryCodes };
    },
  );

  app.delete(
    '/me/mfa/totp',
    {
      config: access,
      schema: {
        tags,
        summary: 'Turns TOTP off (needs a recent password proof)',
        response: { 204: NoContent, ...problems(401) },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      identity.requireRecentAuth(auth);
      await identity.mfa.disable(await identity.accountRow(auth.accountId), identity.caller(request));
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/me/password',
    {
      config: access,
      schema: {
        tags,
        summary: 'Changes the password (needs a recent password proof); other sessions are revoked',
        body: PasswordChangeBody,
        response: { 200: Ok, ...problems(400, 401) },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      identity.requireRecentAuth(auth);
      await identity.passwords.change(
        await identity.accountRow(auth.accountId),
        auth.sessionId,
        request.body.password,
        identity.caller(request),
      );
      return { status: 'ok' as const };
    },
  );

  app.post(
    '/me/email',
    {
      config: access,
      schema: {
        tags,
        summary: 'Changes the email (needs a recent password proof); the new address must be confirmed',
        body: EmailChangeBody,
        response: { 200: MeReply, ...problems(400, 401, 409) },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      identity.requireRecentAuth(auth);
      await identity.emailChange.change(
        await identity.accountRow(auth.accountId),
        request.body.email,
        identity.caller(request),
      );
      return me(auth.accountId);
    },
  );

  app.get(
    '/me/export',
    {
      config: access,
      schema: {
        tags,
        summary: "The account's data (GDPR export)",
        response: { 200: ExportReply, ...problems(401) },
      },
    },
    async (request) => identity.data.export(await identity.accountRow(requireAuth(request).accountId)),
  );

  app.delete(
    '/me',
    {
      config: access,
      schema: {
        tags,
        summary: 'Deletes the account and its personal data (needs a recent password proof)',
        response: { 204: NoContent, ...problems(401) },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      identity.requireRecentAuth(auth);
      await identity.data.delete(await identity.accountRow(auth.accountId), identity.caller(request));
      setSessionCookie(request, reply, '', 0);
      return reply.status(204).send(null);
    },
  );
}
