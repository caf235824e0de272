export { CANOPY_SRP_PROFILE, type SrpHash, type SrpProfile } from './profile.ts';
export { SRP_GROUP_3072, type SrpGroup } from './groups.ts';
export { SrpError, type SrpErrorCode } from './errors.ts';
export { srpIdentity } from './core.ts';
export {
  srpClientFinish,
  srpClientStart,
  srpRegister,
  verifyM2,
  type SrpClientSession,
  type SrpClientState,
  type SrpVerifierRecord,
} from './client.ts';
export {
  srpServerFinish,
  srpServerStart,
  type SrpServerChallenge,
  type SrpServerFinish,
  type SrpServerState,
} from './server.ts';
export { srpDecoyRecord } from './decoy.ts';
