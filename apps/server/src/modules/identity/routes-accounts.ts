/** Sign-up, email verification, forgotten password and the operator setup link: the public account routes. */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { accountView } from './account-store.ts';
import {
  AccountSchema,
  Accepted,
  ForgotBody,
  Ok,
  problems,
  ResetBody,
  SetupBody,
  SignUpBody,
  TokenBody,
} from './schemas.ts';
import type { IdentityService } from './service.ts';

export function accountRoutes(fastify: FastifyInstance, identity: IdentityService): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['accounts'];

  app.post(
    '/accounts',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Sign up: creates the account and its personal org, and mails a verification link',
        description:
          'Answers 201 with the same shape whether or not the email already has an account (the owner is mailed instead); 409 email_taken only when the operator turned CANOPY_SIGNUP_REVEALS_TAKEN_EMAIL on.',
        body: SignUpBody,
        response: { 201: AccountSchema, ...problems(400, 409, 429) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await identity.signUp.signUp(request.body, identity.caller(request))),
  );

  app.post(
    '/accounts/verify',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Confirms the email address with the token from the mail',
        body: TokenBody,
        response: { 200: AccountSchema, ...problems(400, 429) },
      },
    },
    async (request) =>
      accountView(await identity.signUp.verify(request.body.token, identity.caller(request))),
  );

  app.post(
    '/password/forgot',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Mails a reset link if the email has an account; 202 either way',
        body: ForgotBody,
        response: { 202: Accepted, ...problems(400, 429) },
      },
    },
    async (request, reply) => {
      await identity.passwords.forgot(request.body.email, identity.caller(request));
      return reply.status(202).send({ status: 'accepted' as const });
    },
  );

  app.post(
    '/password/reset',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Sets a new password with the token from the mail; revokes every session',
        body: ResetBody,
        response: { 200: Ok, ...problems(400, 429) },
      },
    },
    async (request) => {
      await identity.passwords.reset(request.body.token, request.body.password, identity.caller(request));
      return { status: 'ok' as const };
    },
  );

  app.post(
    '/setup/operator',
    {
      config: { access: 'public' },
      schema: {
        tags: ['operations'],
        summary: 'Creates the first operator account with the one-time link printed at first start',
        body: SetupBody,
        response: { 201: AccountSchema, ...problems(400, 429) },
      },
    },
    async (request, reply) => {
      const { token, ...input } = request.body;
      return reply.status(201).send(await identity.bootstrap.setup(token, input, identity.caller(request)));
    },
  );
}
