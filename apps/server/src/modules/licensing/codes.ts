/**
 * The validation codes of `POST /licenses/validate`, in the order the validator checks them. The first check
 * that fails names the answer; `VALID` is returned only when none does. Clients branch on these strings, so
 * never rename one; add new ones where they belong in the order and document them in README.md.
 */
export const VALIDATION_CODES = [
  'UNKNOWN_PRODUCT',
  'NOT_FOUND',
  'PRODUCT_SCOPE_MISMATCH',
  'SUSPENDED',
  'EXPIRED',
  'SEAT_DEACTIVATED',
  'NO_SEAT',
  'FINGERPRINT_REQUIRED',
  'TOO_MANY_MACHINES',
  'VALID',
] as const;

export type ValidationCode = (typeof VALIDATION_CODES)[number];

export const CODE_DETAILS: Record<ValidationCode, string> = {
  UNKNOWN_PRODUCT: 'This server does not license that product.',
  NOT_FOUND: 'No licence is assigned to you, and none belongs to an organisation you are a member of.',
  PRODUCT_SCOPE_MISMATCH: 'None of your licences covers this product.',
  SUSPENDED: 'Your licence is suspended.',
  EXPIRED: 'Your licence has expired.',
  SEAT_DEACTIVATED: 'Your seat on this licence has been deactivated by an administrator.',
  NO_SEAT: 'You have no seat on this licence.',
  FINGERPRINT_REQUIRED: "This licence tracks machines: send the machine's fingerprint.",
  TOO_MANY_MACHINES: 'You have activated the most machines this licence allows; release one first.',
  VALID: 'The licence is valid.',
};

/** How far down the list a code is: when several licences answer, the furthest-reaching failure is reported. */
export function codeRank(code: ValidationCode): number {
  return VALIDATION_CODES.indexOf(code);
}
