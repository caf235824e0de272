/** The maps module's coded errors (codes are API: clients branch on them). */
import { AppError, forbidden, notFound } from '../../platform/errors.ts';

export const mapNotFound = () => notFound('No such map.');
export const blobNotFound = () => notFound('No such image or attachment in this map.');
export const versionNotFound = () => notFound('No such version of this map.');
export const mapForbidden = (detail = 'Your role on this map does not allow this.') => forbidden(detail);
export const shareeNotFound = () =>
  new AppError(422, 'account_not_found', 'No account of this organisation has that email.');
export const documentInvalid = (detail: string) => new AppError(422, 'invalid_document', detail);
export const unsupportedFormat = (format: string) =>
  new AppError(
    415,
    'unsupported_format',
    `Maps cannot be imported or exported as ${format} on this server yet.`,
  );
