/**
 * Screening on the company's side: whether a visitor may call, and if so a call
 * token. `createScreening` is framework-free; `createScreeningRouter` is the
 * express 5 route (express is an optional peer dependency, loaded only by it).
 */
export { createScreening, type Screening } from './screening.js';
export {
  createScreeningRouter,
  type CallTokenErrorResponse,
  type CallTokenResponse,
  type GatewayInfo,
  type IceServer,
  type ScreeningRouterOptions,
  type ScreeningSession,
} from './router.js';
export type {
  BlockSubject,
  Blocklist,
  IpRateLimit,
  QueueOptions,
  RateLimit,
  ScreeningAllowed,
  ScreeningDecision,
  ScreeningOptions,
  ScreeningRefused,
  ScreeningRequest,
} from './options.js';
export {
  WEEKDAYS,
  compileBusinessHours,
  type BusinessHours,
  type CompiledBusinessHours,
  type LocalTime,
  type OpeningRange,
  type Weekday,
} from './business-hours.js';
export {
  MemoryScreeningStore,
  type MaybePromise,
  type MemoryScreeningStoreOptions,
  type ScreeningStore,
  type StoreResult,
} from './store.js';
export { normaliseOrigin } from './origin.js';
export type {
  CallbackDestinationOptions,
  CallbackScreeningOptions,
  CallbackScreeningRequest,
} from './callback.js';
export { numberListed, visitorNumber } from './phone.js';
export { gatewayInfoSource, type GatewayInfoSourceOptions } from './gateway-info.js';
export { matchIpRules, parseIp, parseIpRule, type IpAddress, type IpRule } from './ip.js';
