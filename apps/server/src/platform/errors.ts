/**
 * Coded errors. The `code` strings are part of the public API (API.md): clients branch on them, so never
 * rename one. Modules declare their own factories on top of `AppError`.
 */
export interface FieldError {
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    status: number,
    code: string,
    detail: string,
    extra: { errors?: FieldError[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.errors = extra.errors;
    this.headers = extra.headers;
  }
}

export const badRequest = (code: string, detail: string, errors?: FieldError[]) =>
  new AppError(400, code, detail, errors ? { errors } : {});
export const validationFailed = (errors: FieldError[]) =>
  new AppError(400, 'validation_failed', 'The request is not valid.', { errors });
export const unauthenticated = (detail = 'Authentication is required.') =>
  new AppError(401, 'unauthenticated', detail);
export const forbidden = (detail = 'You are not allowed to do this.') =>
  new AppError(403, 'forbidden', detail);
export const notFound = (detail = 'Not found.') => new AppError(404, 'not_found', detail);
export const conflict = (code: string, detail: string) => new AppError(409, code, detail);
export const tooLarge = (detail = 'The request is too large.') => new AppError(413, 'too_large', detail);
export const rateLimited = (retryAfterSeconds: number) =>
  new AppError(429, 'rate_limited', 'Too many requests; try again later.', {
    headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
  });
