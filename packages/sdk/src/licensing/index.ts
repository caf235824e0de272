export {
  verifyLicenseToken,
  type LicenseJwk,
  type LicenseJwks,
  type LicenseTokenClaims,
  type LicenseTokenFailure,
  type LicenseTokenResult,
  type VerifyOptions,
} from './verify.ts';
export {
  ANSWER_KEY_LABEL,
  answerMacInput,
  expectedNonceMac,
  verifyValidationAnswer,
  type AnswerOptions,
  type AnswerResult,
  type ValidationAnswer,
} from './answer.ts';
