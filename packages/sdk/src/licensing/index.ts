export {
  verifyLicenseToken,
  type LicenseJwk,
  type LicenseJwks,
  type LicenseTokenClaims,
  type LicenseTokenFailure,
  type LicenseTokenResult,
  type VerifyOptions,
} from './verify.ts';
