/** Coded errors of the model. The codes are part of the API: callers map them to HTTP problems or UI messages. */
export type ModelErrorCode =
  /** An operation named a topic that is not (or no longer) in the map. */
  | 'topic-not-found'
  | 'relationship-not-found'
  | 'boundary-not-found'
  /** The operation is not allowed (e.g. deleting or moving the central topic, moving a topic into itself). */
  | 'invalid-operation'
  /** A field value does not match the document schema. */
  | 'invalid-field'
  /** A JSON document given to `fromJSON` is not a valid `MapDocument`. */
  | 'invalid-document'
  /** A size limit of `limits.ts` would be exceeded. */
  | 'limit-exceeded'
  /** Bytes that are not a Loro update or snapshot. */
  | 'malformed-update'
  /** An update or snapshot that decodes but breaks the document schema or its limits. */
  | 'schema-violation'
  /** A document written by a newer version of the model. */
  | 'unsupported-schema-version'
  | 'invalid-version-vector'
  | 'invalid-peer-id';

export class ModelError extends Error {
  override readonly name = 'ModelError';

  constructor(
    readonly code: ModelErrorCode,
    message: string,
    /** For validation errors: every problem found (capped), each naming where it is. */
    readonly problems: readonly string[] = [],
  ) {
    super(message);
  }
}

export type ModelResult<T> = { ok: true; value: T } | { ok: false; error: ModelError };

export const ok = <T>(value: T): ModelResult<T> => ({ ok: true, value });
export const fail = <T = never>(
  code: ModelErrorCode,
  message: string,
  problems: readonly string[] = [],
): ModelResult<T> => ({ ok: false, error: new ModelError(code, message, problems) });
