/**
 * Stable failure codes of the SRP module; they are part of the SDK's API (the server maps every one of them
 * to 401 `invalid_credentials`, so that no code tells an attacker more than "wrong").
 */
export type SrpErrorCode =
  /** Not a string of hex digit pairs. */
  | 'invalid_hex'
  /** Hex of the wrong size (salt, proof, or an integer longer than N). */
  | 'invalid_length'
  /** A or B is 0 or ≥ N, or the scrambler u is 0: the exchange would leak or be forgeable. */
  | 'invalid_public_value'
  /** M1 (checked by the server) or M2 (checked by the client) does not match. */
  | 'proof_mismatch'
  /** `srpClientFinish` was given no password, neither at start nor at finish. */
  | 'missing_password'
  /** The server secret for decoy records is shorter than 32 bytes. */
  | 'invalid_server_secret';

export class SrpError extends Error {
  override readonly name = 'SrpError';

  constructor(
    readonly code: SrpErrorCode,
    message: string,
  ) {
    super(message);
  }
}
