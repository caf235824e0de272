/** Request and response schemas of the identity routes (they validate, serialise and feed the OpenAPI document). */
import { Type, type Static } from '@sinclair/typebox';

export const Email = Type.String({
  format: 'email',
  minLength: 3,
  maxLength: 254,
  description: 'matched in any letter case',
});
/** Bounded here; the rules (8..128 characters, not a common password) answer 400 weak_password. */
export const Password = Type.String({ minLength: 1, maxLength: 1024 });
const Name = Type.String({ minLength: 1, maxLength: 100 });
const Hex = (maxLength: number) => Type.String({ pattern: '^[0-9a-fA-F]+$', minLength: 1, maxLength });
export const Token = Type.String({ minLength: 1, maxLength: 300 });
export const Totp = Type.String({
  minLength: 1,
  maxLength: 16,
  description: '6-digit TOTP code, or a recovery code',
});
const Id = Type.String({ minLength: 1, maxLength: 64 });
const Time = Type.String({ format: 'date-time' });
export const Role = Type.Union([Type.Literal('admin'), Type.Literal('member')]);

export const AccountSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  firstName: Type.String(),
  lastName: Type.String(),
  emailVerified: Type.Boolean(),
});
export const OrgSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  personal: Type.Boolean(),
  role: Role,
});

export const SignUpBody = Type.Object({ email: Email, password: Password, firstName: Name, lastName: Name });
export type SignUpBody = Static<typeof SignUpBody>;
export const TokenBody = Type.Object({ token: Token });

export const LoginBody = Type.Object({ email: Email, password: Password, totp: Type.Optional(Totp) });
export const SessionCreated = Type.Object({
  token: Type.String({ description: 'bearer token; the browser also gets it as the session cookie' }),
  expiresAt: Time,
  account: AccountSchema,
  csrfToken: Type.String({
    description: 'send as the X-CSRF-Token header with the cookie on state-changing requests',
  }),
});
export const SrpStartBody = Type.Object({ email: Email, A: Hex(768) });
export const SrpStartReply = Type.Object({
  challengeId: Type.String(),
  salt: Type.String(),
  B: Type.String(),
});
export const SrpFinishBody = Type.Object({ challengeId: Id, M1: Hex(64), totp: Type.Optional(Totp) });
export const SrpSessionCreated = Type.Object({
  token: Type.String(),
  expiresAt: Time,
  account: AccountSchema,
  csrfToken: Type.String(),
  M2: Type.String(),
});
export const ReauthBody = Type.Object({ password: Password, totp: Type.Optional(Totp) });
export const SessionSchema = Type.Object({
  id: Type.String(),
  method: Type.String(),
  createdAt: Time,
  lastSeenAt: Time,
  expiresAt: Time,
  current: Type.Boolean(),
});

export const ForgotBody = Type.Object({ email: Email });
export const ResetBody = Type.Object({ token: Token, password: Password });
export const PasswordChangeBody = Type.Object({ password: Password });
export const EmailChangeBody = Type.Object({ email: Email });

export const MeReply = Type.Object({
  id: Type.String(),
  email: Type.String(),
  firstName: Type.String(),
  lastName: Type.String(),
  emailVerified: Type.Boolean(),
  mfaEnabled: Type.Boolean(),
  operator: Type.Boolean(),
  orgs: Type.Array(OrgSchema),
});
export const MeUpdateBody = Type.Object(
  { firstName: Type.Optional(Name), lastName: Type.Optional(Name) },
  { minProperties: 1 },
);
export const TotpSetupReply = Type.Object({ secret: Type.String(), otpauthUrl: Type.String() });
export const TotpConfirmBody = Type.Object({ code: Type.String({ pattern: '^[0-9]{6}$' }) });
export const TotpConfirmReply = Type.Object({ recoveryCodes: Type.Array(Type.String()) });

export const AuditEventSchema = Type.Object({
  id: Type.String(),
  at: Time,
  action: Type.String(),
  actorId: Type.Union([Type.String(), Type.Null()]),
  subjectId: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()], { description: 'kept 30 days, then null' }),
});
export const AuditQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  before: Type.Optional(Type.Integer({ minimum: 0, description: 'epoch ms: events before this time' })),
});

export const ExportReply = Type.Object({
  exportedAt: Time,
  account: Type.Object({
    id: Type.String(),
    email: Type.String(),
    firstName: Type.String(),
    lastName: Type.String(),
    emailVerified: Type.Boolean(),
    mfaEnabled: Type.Boolean(),
    operator: Type.Boolean(),
    createdAt: Time,
  }),
  orgs: Type.Array(OrgSchema),
  sessions: Type.Array(
    Type.Object({
      id: Type.String(),
      method: Type.String(),
      createdAt: Time,
      lastSeenAt: Time,
      expiresAt: Time,
    }),
  ),
  auditEvents: Type.Array(AuditEventSchema),
});

export const OrgCreateBody = Type.Object({ name: Name });
export const OrgParams = Type.Object({ orgId: Id });
export const MemberParams = Type.Object({ orgId: Id, accountId: Id });
export const SessionParams = Type.Object({ sessionId: Id });
export const MemberSchema = Type.Object({
  accountId: Type.String(),
  email: Type.String(),
  firstName: Type.String(),
  lastName: Type.String(),
  role: Role,
});
export const RoleBody = Type.Object({ role: Role });
export const InvitationBody = Type.Object({ email: Email, role: Role });
export const InvitationReply = Type.Object({
  id: Type.String(),
  email: Type.String(),
  role: Role,
  expiresAt: Time,
});
export const OperatorSetupBody = SignUpBody;
export const SetupBody = Type.Intersect([TokenBody, SignUpBody]);

export const NoContent = Type.Null({ description: 'no content' });
export const Accepted = Type.Object({ status: Type.Literal('accepted') });
export const Ok = Type.Object({ status: Type.Literal('ok') });

export const problems = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, Type.Ref('Problem')])) as Record<
    number,
    ReturnType<typeof Type.Ref>
  >;
