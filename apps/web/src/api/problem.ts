/** An RFC 9457 problem, as every Canopy error is answered (API.md, "Conventions"). */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  /** Stable snake_case error code, e.g. `invalid_credentials`; `network_error` when the server was not reached. */
  readonly code: string;
  /** Field errors of a 400 `validation_failed`. */
  readonly errors?: readonly { path: string; message: string }[];
  /** Seconds, from a 429's Retry-After. */
  readonly retryAfter?: number;
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
    this.name = 'ApiError';
  }

  get status(): number {
    return this.problem.status;
  }

  get code(): string {
    return this.problem.code;
  }
}

/** Reads a problem from an error response, whatever the server sent (a proxy may answer with HTML). */
export async function problemFrom(response: Response): Promise<Problem> {
  const retry = Number(response.headers.get('retry-after'));
  const retryAfter = Number.isFinite(retry) && retry > 0 ? { retryAfter: retry } : {};
  const fallback: Problem = {
    type: 'about:blank',
    title: response.statusText || `HTTP ${response.status}`,
    status: response.status,
    code: `http_${response.status}`,
    ...retryAfter,
  };
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('json')) return fallback;
  try {
    const body = (await response.json()) as Partial<Problem> | null;
    if (!body || typeof body !== 'object') return fallback;
    return {
      type: typeof body.type === 'string' ? body.type : fallback.type,
      title: typeof body.title === 'string' ? body.title : fallback.title,
      status: typeof body.status === 'number' ? body.status : response.status,
      code: typeof body.code === 'string' ? body.code : fallback.code,
      ...(typeof body.detail === 'string' ? { detail: body.detail } : {}),
      ...(Array.isArray(body.errors) ? { errors: body.errors.filter(isFieldError) } : {}),
      ...retryAfter,
    };
  } catch {
    return fallback;
  }
}

function isFieldError(e: unknown): e is { path: string; message: string } {
  return typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string';
}

export function networkProblem(error: unknown): Problem {
  return {
    type: 'about:blank',
    title: 'Canopy could not be reached',
    status: 0,
    code: 'network_error',
    detail: error instanceof Error ? error.message : String(error),
  };
}
