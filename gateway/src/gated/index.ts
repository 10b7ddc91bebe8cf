/**
 * Gated facilities (S4, docs/gated.md): residents, their devices, inbound
 * calling accounts of non-residents, the authenticating server (the Gate),
 * per-minute billing (the Meter), the facility's API and the resident
 * device's API. The call path uses the Gate's hooks and the Meter.
 */
export { createGatedModule, type GatedModule, type GatedModuleOptions } from './gated.js';
export { Gate, type DeviceData, type DevicePinResult, type PinResult } from './gate.js';
export { Meter, type MeterCall, type MeterEvents, type MeterStart } from './meter.js';
export type { AuthorizeContext } from './auth/authenticator.js';
export { hookSignature, type HookAnswer, type HookQuestion } from './auth/http-hook.js';
export type {
  Check,
  CheckName,
  DecisionRecord,
  DeviceTarget,
  GateDecision,
  GateStage,
  OutwardAnswer,
} from './decision.js';
export type { DeviceContact, DevicePresence, SignIn } from './devices/device-presence.js';
export { PinHasher, DEFAULT_SCRYPT, type ScryptParams } from './pins/pin-hash.js';
export {
  GATED_PG_MIGRATIONS,
  GATED_SCHEMA,
  createPgGatedStore,
  createSqliteGatedStore,
  gatedMoveTables,
  type GatedStore,
} from './store/index.js';
export type * from './types.js';
