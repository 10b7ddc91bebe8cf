import { Router } from 'express';
import { requireApiKey, type ApiKeyConfig } from '../../http/api-auth.js';
import type { Marketplace } from '../marketplace.js';
import { adminRoutes } from './admin-routes.js';
import { callEntryRoutes } from './call-entry-routes.js';
import { placementRoutes } from './placement-routes.js';
import { reportRoutes } from './report-routes.js';

export interface MarketplaceRouterDeps {
  readonly marketplace: Marketplace;
  readonly apiKeys: readonly ApiKeyConfig[];
  readonly sipDomain: string;
}

/** Paths under /v1 that need an API key (the placement POST is the publisher page's, before them). */
export const MARKETPLACE_PATHS = [
  '/advertisers',
  '/publishers',
  '/listings',
  '/placements',
  '/impressions',
  '/marketplace',
  '/refunds',
  '/reports',
  '/call-entries',
];

/** The marketplace's routes, mounted at `/v1` before the core API. */
export function marketplaceRouter(deps: MarketplaceRouterDeps): Router {
  const router = Router();
  router.use(placementRoutes(deps.marketplace));
  router.use(MARKETPLACE_PATHS, requireApiKey(deps.apiKeys));
  router.use(adminRoutes(deps.marketplace, deps.sipDomain));
  router.use(callEntryRoutes(deps.marketplace));
  router.use(reportRoutes(deps.marketplace));
  return router;
}
