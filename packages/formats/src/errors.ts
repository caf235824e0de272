/** Stable error codes: part of the API (the server maps them to problem+json responses). */
export const FORMAT_ERROR_CODES = [
  'unsupported_format',
  'invalid_file',
  'too_large',
  'too_deep',
  'too_many_topics',
  'too_many_entries',
  'xml_doctype_forbidden',
  'zip_bomb',
  'zip_path_traversal',
  'password_protected',
] as const;
export type FormatErrorCode = (typeof FORMAT_ERROR_CODES)[number];

export class FormatError extends Error {
  override readonly name = 'FormatError';
  constructor(
    readonly code: FormatErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isFormatError(error: unknown): error is FormatError {
  return error instanceof FormatError;
}

/** Runs a parser step and turns anything that is not already a FormatError into `invalid_file`. */
export function asInvalidFile<T>(what: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof FormatError) throw error;
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      throw new FormatError('too_deep', `${what}: nesting too deep`, { cause: error });
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new FormatError('invalid_file', `${what}: ${reason}`, { cause: error });
  }
}
