/**
 * The marketplace's numbers and destinations checked against the rest of the
 * gateway: a listing's destination (a queue or an agent of its own tenant, or
 * a number the trunk's outbound rules let the tenant call) and static number
 * before anything is written, the tracking pools at start-up.
 */
import { ParleyError } from '@parley/shared/errors';
import type { Destination } from './model.js';
import type { MarketplaceEnvironment } from './environment.js';

const bad = (detail: string) => new ParleyError('bad_request', detail, { expose: true });

/** Why the trunks will not dial a listing's number: the registry's code and the rule. */
export interface DestinationRefusal {
  readonly code: 'trunk_not_allowed' | 'number_not_allowed';
  readonly detail: string;
}

export function checkDestination(
  env: MarketplaceEnvironment,
  tenant: string,
  d: Destination,
): void {
  switch (d.kind) {
    case 'queue': {
      const owner = env.queueTenant(d.queue);
      if (owner === undefined) throw bad(`destination.queue: no queue ${d.queue}`);
      if (owner !== tenant)
        throw bad(`destination.queue: ${d.queue} is not a queue of tenant ${tenant}`);
      return;
    }
    case 'agent': {
      const owner = env.agentTenant(d.agent);
      if (owner === undefined) throw bad(`destination.agent: no agent ${d.agent}`);
      if (owner !== tenant)
        throw bad(`destination.agent: ${d.agent} is not an agent of tenant ${tenant}`);
      return;
    }
    case 'number': {
      const refusal = destinationRefusal(env, tenant, d);
      if (refusal === undefined) return;
      throw new ParleyError(refusal.code, refusal.detail, { expose: true });
    }
  }
}

/**
 * Why a number destination cannot be dialled for the tenant now (the trunk's
 * outbound rules), or undefined. Checked when a listing is written and again
 * when a call is placed: the rules may have changed since (a restart with a
 * new config).
 */
export function destinationRefusal(
  env: MarketplaceEnvironment,
  tenant: string,
  d: Destination,
): DestinationRefusal | undefined {
  if (d.kind !== 'number') return undefined;
  if (!env.outboundRefusal) {
    return d.trunk === undefined
      ? undefined
      : {
          code: 'trunk_not_allowed',
          detail: 'destination.trunk: no trunks are configured on this gateway',
        };
  }
  const refusal = env.outboundRefusal(tenant, d.trunk, d.number);
  if (refusal === undefined) return undefined;
  return refusal.kind === 'tenant'
    ? { code: 'trunk_not_allowed', detail: `destination.trunk: ${refusal.detail}` }
    : { code: 'number_not_allowed', detail: `destination.number: ${refusal.detail}` };
}

/** What the registry needs to know of a static number's other owners. */
export interface StaticNumberOwners {
  /** The live listing that already shows this number, if any. */
  listingByStaticNumber(number: string): { readonly id: string } | undefined;
  /** Another use of the number by the marketplace (`the tracking pool of tenant acme`), if any. */
  marketplaceUse(number: string): string | undefined;
}

/**
 * A listing's static number is shown on pages and called from phones: it
 * must reach the gateway through a trunk, for the listing's tenant, and be
 * nobody else's (not leased from a tracking pool, not a fallback number, not
 * another live listing's). Otherwise its calls would never arrive, or would be
 * matched to someone else.
 */
export function checkStaticNumber(
  env: MarketplaceEnvironment,
  owners: StaticNumberOwners,
  tenant: string,
  number: string,
  listingId: string | undefined,
): void {
  const where = `staticNumber: ${number}`;
  if (env.inboundNumber) {
    const route = env.inboundNumber(number);
    if (!route)
      throw bad(
        `${where} is not an inbound number of any trunk (list it in trunks.<id>.inbound.numbers)`,
      );
    if (route.tenant !== tenant)
      throw bad(
        `${where} reaches tenant ${route.tenant} through trunks.${route.trunk}, not ${tenant}`,
      );
  }
  const use = owners.marketplaceUse(number);
  if (use !== undefined) throw conflict(`${where} is in use: ${use}`);
  const other = owners.listingByStaticNumber(number);
  if (other && other.id !== listingId)
    throw conflict(`${where} is already the static number of listing ${other.id}`);
}

const conflict = (detail: string) => new ParleyError('conflict', detail, { expose: true });

/**
 * Start-up cross-check (with the trunks connected): every tracking number and
 * the fallback number must be one of a trunk's inbound numbers, for the same
 * tenant; otherwise the pool would lease numbers whose calls never arrive.
 */
export function checkRouted(
  environment: MarketplaceEnvironment,
  tenant: string,
  numbers: readonly string[],
  fallbackNumber: string | undefined,
): void {
  const lookup = environment.inboundNumber?.bind(environment);
  if (!lookup) return;
  const path = `marketplace.tenants.${tenant}`;
  const check = (number: string, where: string) => {
    const route = lookup(number);
    if (!route)
      throw new ParleyError(
        'invalid_config',
        `${path}.${where}: ${number} is not an inbound number of any trunk (list it in trunks.<id>.inbound.numbers)`,
      );
    if (route.tenant !== tenant)
      throw new ParleyError(
        'invalid_config',
        `${path}.${where}: ${number} reaches tenant ${route.tenant} through trunks.${route.trunk}, not ${tenant}`,
      );
  };
  for (const number of numbers) check(number, 'trackingNumbers');
  if (fallbackNumber !== undefined) check(fallbackNumber, 'fallbackNumber');
}
