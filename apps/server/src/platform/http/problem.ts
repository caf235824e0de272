/**
 * Every error leaves as RFC 9457 problem+json with a stable `code` (API.md, Conventions). 5xx details are
 * hidden from the client and logged with the request id, which the client gets to quote.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type FieldError } from '../errors.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  requestId?: string;
  errors?: FieldError[];
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function problemOf(status: number, code: string, detail: string, errors?: FieldError[]): Problem {
  return {
    type: `https://canopy.invalid/problems/${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...(errors ? { errors } : {}),
  };
}

/** Fastify's own error codes, mapped to ours. */
const FASTIFY_CODES: Record<string, { status: number; code: string; detail: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json', detail: 'The body is not valid JSON.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'invalid_json', detail: 'The JSON body is empty.' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'too_large', detail: 'The request body is too large.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'unsupported_media_type',
    detail: 'This content type is not accepted here.',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'invalid_content_length',
    detail: 'Content-Length does not match the body.',
  },
  FST_ERR_CTP_EMPTY_TYPE: {
    status: 415,
    code: 'unsupported_media_type',
    detail: 'The content type is empty.',
  },
  FST_ERR_CTP_INVALID_TYPE: {
    status: 415,
    code: 'unsupported_media_type',
    detail: 'The content type is not valid.',
  },
  FST_ERR_BAD_URL: { status: 400, code: 'bad_url', detail: 'The URL is malformed.' },
  FST_ERR_MAX_PARAM_LENGTH: {
    status: 414,
    code: 'uri_too_long',
    detail: 'A part of the path is longer than this server accepts.',
  },
};

/**
 * The router's own refusals (a malformed URL, a path parameter over the length limit), which Fastify answers
 * before any route or error handler: the same problem+json with a code (Fastify's `frameworkErrors`).
 */
export function frameworkProblem(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const mapped = FASTIFY_CODES[error.code] ?? { status: 400, code: 'bad_request', detail: error.message };
  return sendProblem(request, reply, problemOf(mapped.status, mapped.code, mapped.detail));
}

function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: Problem) {
  return reply
    .status(problem.status)
    .type('application/problem+json; charset=utf-8')
    .send({ ...problem, instance: request.url.split('?')[0], requestId: request.id });
}

function fieldErrors(error: FastifyError): FieldError[] {
  return (error.validation ?? []).map((v) => {
    const missing =
      v.keyword === 'required' ? (v.params as { missingProperty?: string }).missingProperty : undefined;
    const base = v.instancePath || '';
    const path = `${error.validationContext ?? 'body'}${base.replace(/\//g, '.')}${missing ? `.${missing}` : ''}`;
    return { path, message: v.message ?? 'is not valid' };
  });
}

/**
 * Where `value` holds a NUL character, as a field path (`body.title`); undefined when nowhere. Iterative: a body
 * may nest deeper than the stack (JSON.parse takes 100,000 levels).
 */
function nulAt(value: unknown, path: string): string | undefined {
  const stack: [unknown, string][] = [[value, path]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [v, at] = next;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return at;
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push([item, `${at}.${i}`]));
    } else if (v && typeof v === 'object') {
      for (const [key, item] of Object.entries(v)) {
        if (key.includes('\u0000')) return `${at}.${key}`;
        stack.push([item, `${at}.${key}`]);
      }
    }
  }
  return undefined;
}

/**
 * NUL characters have no use anywhere in this API, and PostgreSQL refuses them in text (a 500 if they got that
 * far): refused with a 400 in the URL (path or query) and in JSON bodies, before any handler runs.
 */
function refuseNulCharacters(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    if (/%00/.test(request.url) || request.url.includes('\u0000'))
      throw new AppError(400, 'bad_url', 'The URL holds a NUL character (%00).');
  });
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined || request.body === null || Buffer.isBuffer(request.body)) return;
    const at = nulAt(request.body, 'body');
    if (at)
      throw new AppError(400, 'validation_failed', 'The request is not valid.', {
        errors: [{ path: at, message: 'must not contain a NUL character' }],
      });
  });
}

export function installProblemHandlers(app: FastifyInstance): void {
  refuseNulCharacters(app);
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    if (error instanceof AppError) {
      if (error.headers) void reply.headers(error.headers);
      if (error.status >= 500) request.log.error({ err: error }, 'request failed');
      return sendProblem(request, reply, problemOf(error.status, error.code, error.message, error.errors));
    }
    const fe = error;
    if (fe.validation) {
      return sendProblem(
        request,
        reply,
        problemOf(400, 'validation_failed', 'The request is not valid.', fieldErrors(fe)),
      );
    }
    const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
    if (mapped) return sendProblem(request, reply, problemOf(mapped.status, mapped.code, mapped.detail));
    if (fe.statusCode === 429) {
      return sendProblem(
        request,
        reply,
        problemOf(429, 'rate_limited', 'Too many requests; try again later.'),
      );
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      // A client error raised by Fastify or a plugin that we have not named yet: keep its status, give a code.
      return sendProblem(request, reply, problemOf(fe.statusCode, 'bad_request', fe.message));
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(
      request,
      reply,
      problemOf(
        500,
        'internal_error',
        'Something went wrong on our side; quote the request id if you report it.',
      ),
    );
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      request,
      reply,
      problemOf(404, 'not_found', `No route ${request.method} ${request.url.split('?')[0]}.`),
    ),
  );
}
