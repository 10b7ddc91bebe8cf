/**
 * The tenants' tracking-number pools of the config (`marketplace.tenants.<t>`):
 * every DID of a pool in one tenant's pool only, routed to the gateway by a
 * trunk of that tenant, with the leases of each pool (`number-leases.ts`).
 */
import { ParleyError } from '@parley/shared/errors';
import type { Config } from '../config/index.js';
import { expandRanges } from '../numbers/session-number-pool.js';
import type { MarketplaceEnvironment } from './environment.js';
import { checkRouted } from './listing-checks.js';
import type { NumberLeases } from './number-leases.js';
import type { TenantNumbers } from './placement.js';

export interface TenantPools {
  readonly numbers: Map<string, TenantNumbers>;
  /** The tenant whose pool holds a number. */
  readonly poolTenant: Map<string, string>;
  /** The tenant whose fallback number a number is. */
  readonly fallbackTenant: Map<string, string>;
}

export function tenantPools(
  config: Config['marketplace'],
  environment: MarketplaceEnvironment,
  leases: (tenant: string, numbers: readonly string[], leaseSeconds: number) => NumberLeases,
): TenantPools {
  const numbers = new Map<string, TenantNumbers>();
  const poolTenant = new Map<string, string>();
  const fallbackTenant = new Map<string, string>();
  for (const [tenant, t] of Object.entries(config.tenants)) {
    if (!environment.tenantExists(tenant))
      throw new ParleyError('invalid_config', `marketplace.tenants.${tenant}: no such tenant`);
    let dids: string[];
    try {
      dids = [
        ...new Set([...expandRanges(t.trackingNumbers.ranges), ...t.trackingNumbers.numbers]),
      ];
    } catch (error) {
      throw new ParleyError(
        'invalid_config',
        `marketplace.tenants.${tenant}.trackingNumbers: ${(error as Error).message}`,
      );
    }
    for (const n of dids) {
      const other = poolTenant.get(n);
      if (other !== undefined && other !== tenant)
        throw new ParleyError(
          'invalid_config',
          `tracking number ${n} is in the pools of ${other} and ${tenant}`,
        );
      poolTenant.set(n, tenant);
    }
    if (t.fallbackNumber) fallbackTenant.set(t.fallbackNumber, tenant);
    checkRouted(environment, tenant, dids, t.fallbackNumber);
    numbers.set(tenant, {
      pool: leases(tenant, dids, t.trackingNumbers.leaseSeconds),
      leaseSeconds: t.trackingNumbers.leaseSeconds,
      fallbackNumber: t.fallbackNumber,
    });
  }
  return { numbers, poolTenant, fallbackTenant };
}
