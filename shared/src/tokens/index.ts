export {
  CALL_TOKEN_TYP,
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  DEFAULT_MAX_TOKEN_BYTES,
  DEFAULT_TTL_SECONDS,
  MAX_TTL_SECONDS,
  SIGNING_ALGORITHMS,
  formatScope,
  scopeAllows,
  scopeEntries,
  type CallTokenPayload,
  type CallTokenPublicClaims,
  type PrivateClaims,
  type CallbackClaim,
  type ScopeEntry,
  type SigningAlgorithm,
  type VerifiedCallToken,
} from './claims.js';
export { CallTokenError, isCallTokenError } from './errors.js';
export {
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  publicJwkOf,
  type EncryptionCurve,
  type JWK,
  type JwkSet,
  type KeyPairFiles,
} from './keys.js';
export {
  createCallTokenIssuer,
  issueCallToken,
  type CallTokenIssuer,
  type CallTokenIssuerOptions,
  type IssueParams,
  type IssuedCallToken,
} from './issue.js';
export {
  createCallTokenVerifier,
  verifyCallToken,
  type CallTokenVerifier,
  type CallTokenVerifierOptions,
  type VerifyCallTokenOptions,
  type VerifyContext,
} from './verify.js';
export {
  MemoryReplayStore,
  SAME_USE_WINDOW_MS,
  sameUse,
  type ReplayStore,
} from './replay-store.js';
export {
  ConfiguredTenantKeys,
  RemoteJwks,
  type RemoteJwksOptions,
  type TenantKeyResolver,
  type TenantKeySource,
} from './tenant-keys.js';
