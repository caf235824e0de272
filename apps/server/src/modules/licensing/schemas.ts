/** TypeBox schemas of licensing's routes; the route types come from these (`Static<>`). */
import { Type, type Static } from '@sinclair/typebox';
import { VALIDATION_CODES } from './codes.ts';

export const Email = Type.String({ minLength: 3, maxLength: 320, pattern: '^[^@\\s]+@[^@\\s]+$' });
const Time = Type.String({ format: 'date-time' });
export const Id = Type.String({ minLength: 1, maxLength: 64 });
const Products = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
  minItems: 1,
  maxItems: 32,
  uniqueItems: true,
});

export const PolicySchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9][a-z0-9_-]*$' }),
  name: Type.String({ minLength: 1, maxLength: 128 }),
  durationDays: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
    description: 'default licence term; null = no expiry',
  }),
  seatModel: Type.Union([Type.Literal('named'), Type.Literal('floating')]),
  maxMachinesPerUser: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
    description: 'null = machines are not tracked',
  }),
  overage: Type.Union([Type.Literal('reject'), Type.Literal('allow_1_25x'), Type.Literal('allow_2x')]),
  heartbeatIntervalS: Type.Integer({ minimum: 60, description: 'a machine missing two heartbeats is dead' }),
  offlineGraceS: Type.Integer({ minimum: 60, description: 'lifetime of the signed licence token' }),
});
export type Policy = Static<typeof PolicySchema>;

export const IssueLicenseBody = Type.Object({
  orgId: Id,
  products: Products,
  seats: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
  expiresAt: Type.Optional(Time),
  policy: Type.Optional(
    Type.String({ minLength: 1, maxLength: 64, description: 'policy id (default "standard")' }),
  ),
});
export type IssueLicenseInput = Static<typeof IssueLicenseBody>;

export const IssuedLicense = Type.Object({ id: Type.String(), key: Type.String() });

export const LicenseStatusSchema = Type.Union([
  Type.Literal('active'),
  Type.Literal('suspended'),
  Type.Literal('expired'),
]);

export const LicenseView = Type.Object({
  id: Type.String(),
  key: Type.String(),
  orgId: Type.String(),
  policy: Type.String(),
  products: Type.Array(Type.String()),
  seats: Type.Integer(),
  usedSeats: Type.Integer(),
  availableSeats: Type.Integer(),
  expiresAt: Type.Union([Time, Type.Null()]),
  status: LicenseStatusSchema,
});
export type LicenseViewT = Static<typeof LicenseView>;

export const ExtendBody = Type.Object({ expiresAt: Type.Union([Time, Type.Null()]) });

export const SeatView = Type.Object({
  email: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('deactivated')]),
  source: Type.String(),
  assignedAt: Time,
});
export type SeatViewT = Static<typeof SeatView>;

export const MySeatView = Type.Object({
  licenseId: Type.String(),
  orgId: Type.String(),
  products: Type.Array(Type.String()),
  licenseStatus: LicenseStatusSchema,
  expiresAt: Type.Union([Time, Type.Null()]),
  seatStatus: Type.Union([Type.Literal('active'), Type.Literal('deactivated')]),
});

export const CsvImportReport = Type.Object({
  assigned: Type.Integer(),
  reactivated: Type.Integer(),
  deactivated: Type.Integer(),
  unchanged: Type.Integer(),
  failed: Type.Integer(),
  rows: Type.Array(
    Type.Object({
      line: Type.Integer(),
      email: Type.String(),
      outcome: Type.Union(
        ['assigned', 'reactivated', 'deactivated', 'unchanged', 'failed'].map((o) => Type.Literal(o)),
      ),
      code: Type.Optional(Type.String()),
      reason: Type.Optional(Type.String()),
    }),
  ),
});
export type CsvImportReportT = Static<typeof CsvImportReport>;

export const ValidateBody = Type.Object({
  product: Type.String({ minLength: 1, maxLength: 64 }),
  fingerprint: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  nonce: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
});
export type ValidateInput = Static<typeof ValidateBody>;

/**
 * A string from a fixed list, as `{type: 'string', enum}`. The validation answer uses these rather than unions
 * (`anyOf`), for which the response serialiser runs an Ajv validation per field to pick a branch.
 */
function stringEnum<T extends string>(values: readonly T[], description?: string) {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], ...(description ? { description } : {}) });
}

export const ValidationCodeSchema = stringEnum(VALIDATION_CODES, 'ordered list: see the licensing README');

export const ValidationLicense = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  products: Type.Array(Type.String()),
  status: stringEnum(['active', 'suspended', 'expired'] as const),
  // (Not a union either: `type: [string, null]` serialises without Ajv.)
  expiresAt: Type.Unsafe<string | null>({ type: ['string', 'null'], format: 'date-time' }),
  seatModel: stringEnum(['named', 'floating'] as const),
  heartbeatIntervalS: Type.Integer(),
  activationId: Type.Optional(Type.String()),
});
export type ValidationLicenseT = Static<typeof ValidationLicense>;

export const ValidateReply = Type.Object({
  valid: Type.Boolean(),
  code: ValidationCodeSchema,
  detail: Type.String(),
  license: Type.Optional(ValidationLicense),
  token: Type.Optional(
    Type.String({ description: 'JWS (EdDSA) licence token; verify against GET /licenses/keys' }),
  ),
  nonce: Type.Optional(Type.String()),
  nonceMac: Type.Optional(
    Type.String({
      description:
        'HMAC-SHA256 binding nonce, code and token to this bearer credential; packages/sdk verifyValidationAnswer',
    }),
  ),
});
export type ValidateReplyT = Static<typeof ValidateReply>;

export const JwksSchema = Type.Object({
  keys: Type.Array(
    Type.Object({
      kty: Type.Literal('OKP'),
      crv: Type.Literal('Ed25519'),
      x: Type.String(),
      kid: Type.String(),
      use: Type.Literal('sig'),
      alg: Type.Literal('EdDSA'),
      status: Type.Union([Type.Literal('active'), Type.Literal('retired')]),
    }),
  ),
});

export const ActivateBody = Type.Object({
  product: Type.String({ minLength: 1, maxLength: 64 }),
  fingerprint: Type.String({ minLength: 1, maxLength: 200 }),
  name: Type.Optional(Type.String({ maxLength: 255 })),
});

export const ActivationView = Type.Object({
  id: Type.String(),
  licenseId: Type.String(),
  fingerprint: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  createdAt: Time,
  lastHeartbeatAt: Time,
});

export const ScimCredentialBody = Type.Object({ licenseId: Id });
export const ScimCredentialView = Type.Object({
  id: Type.String(),
  licenseId: Type.String(),
  secret: Type.String({ description: 'shown once; store it in the IdP' }),
  scimBaseUrl: Type.String(),
});
