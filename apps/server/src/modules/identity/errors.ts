/** The identity module's coded errors (API.md, "Accounts and sessions"). The codes are part of the API. */
import { AppError, type FieldError } from '../../platform/errors.ts';

export const invalidCredentials = () =>
  new AppError(401, 'invalid_credentials', 'The email or password is not correct.');
export const mfaRequired = () =>
  new AppError(401, 'mfa_required', 'This account uses two-step verification: send the code as `totp`.');
export const invalidTotp = () => new AppError(401, 'invalid_totp', 'The verification code is not correct.');
export const reauthenticationRequired = () =>
  new AppError(
    401,
    'reauthentication_required',
    'Confirm your password first: POST /sessions/current/reauth.',
  );
export const emailTaken = () =>
  new AppError(409, 'email_taken', 'An account with this email already exists.');
export const invalidToken = () =>
  new AppError(400, 'invalid_token', 'The link is not valid: it was used already, has expired, or is wrong.');
export const weakPassword = (errors: FieldError[]) =>
  new AppError(400, 'weak_password', 'The password does not meet the rules.', { errors });
export const mfaNotPending = () =>
  new AppError(409, 'mfa_not_pending', 'Start with POST /me/mfa/totp before confirming a code.');
export const mfaAlreadyEnabled = () =>
  new AppError(409, 'mfa_already_enabled', 'Two-step verification is already on; turn it off first.');
export const invitationEmailMismatch = () =>
  new AppError(403, 'invitation_email_mismatch', 'This invitation was sent to another email address.');
export const lastAdmin = () => new AppError(409, 'last_admin', 'An organisation needs at least one admin.');
