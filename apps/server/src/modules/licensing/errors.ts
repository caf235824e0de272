/** Licensing's coded errors (API.md, Licensing). The codes are part of the API: never rename one. */
import { AppError, badRequest, conflict, notFound } from '../../platform/errors.ts';

export const licensingErrors = {
  licenseNotFound: () => notFound('No such licence.'),
  seatNotFound: () => notFound('No seat for that email on this licence.'),
  activationNotFound: () => notFound('No such activation (it may have been released or culled).'),
  orgNotFound: () => notFound('No such organisation.'),
  seatLimitReached: (seats: number) =>
    conflict('seat_limit_reached', `Every seat of this licence is taken (${seats} seats).`),
  seatExists: () => conflict('seat_exists', 'That email already has a seat on this licence.'),
  tooManyMachines: (detail: string) => conflict('too_many_machines', detail),
  licenseInactive: (code: string) =>
    new AppError(409, 'license_inactive', `The licence cannot be used (${code}).`),
  unknownProducts: (names: string[]) =>
    badRequest('unknown_product', `Unknown product(s): ${names.join(', ')}.`, [
      { path: 'body.products', message: `unknown: ${names.join(', ')}` },
    ]),
  unknownPolicy: (id: string) =>
    badRequest('unknown_policy', `Unknown policy ${id}.`, [
      { path: 'body.policy', message: 'unknown policy' },
    ]),
  policyExists: (id: string) => conflict('policy_exists', `A policy with id ${id} exists.`),
  invalidEmail: () =>
    badRequest('validation_failed', 'That is not an email address.', [
      { path: 'email', message: 'must be an email address' },
    ]),
};
