export {
  Marketplace,
  type CallAttribution,
  type MarketplaceCallHooks,
  type MarketplaceConfig,
  type MarketplaceOptions,
} from './marketplace.js';
export { MARKETPLACE_SCHEMA } from './schema.js';
export { trackedCalls } from './tracked-calls.js';
export { marketplaceRouter, type MarketplaceRouterDeps } from './api/router.js';
export type { CallMatch, InboundQuery } from './inbound-match.js';
export type { CallFacts, QualifyResult } from './billing.js';
export type { MarketplaceEnvironment } from './environment.js';
export type { Advertiser, Destination, Impression, Listing, Publisher } from './model.js';
export {
  MARKETPLACE_PG_MIGRATIONS,
  PgCharges,
  dailyBudgetCheck,
  type SharedChargeInput,
  type SharedChargeResult,
} from './pg-charges.js';
export { marketplaceMoveTables, refuseUnmovedMarketplace } from './move.js';
