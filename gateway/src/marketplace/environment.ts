/**
 * What the marketplace asks of the rest of the gateway (config, queues,
 * agents, trunks): passed in, so the marketplace imports none of them.
 */
/** What the registry asks of the rest of the gateway (config, agents, trunks). */
export interface MarketplaceEnvironment {
  tenantExists(tenant: string): boolean;
  /** The tenant of a queue, or undefined for no such queue. */
  queueTenant(queue: string): string | undefined;
  /** The tenant of an agent, or undefined for no such agent. */
  agentTenant(agent: string): string | undefined;
  /**
   * Why the trunk (named, else the tenant's default) would not call this number
   * for the tenant (`trunks.<id>.outbound`: tenants, deny and allow prefixes),
   * or undefined when it would. Absent without the trunks module: a
   * destination naming a trunk is then refused.
   */
  outboundRefusal?(
    tenant: string,
    trunk: string | undefined,
    number: string,
  ):
    | { readonly rule: string; readonly kind: 'tenant' | 'number'; readonly detail: string }
    | undefined;
  /**
   * The trunk and tenant an inbound number (a DID) reaches the gateway
   * through, or undefined when no trunk lists it. With it, start-up refuses a
   * tracking number (or fallback number) that no trunk of its tenant would
   * route: its calls would never arrive.
   */
  inboundNumber?(number: string): { readonly trunk: string; readonly tenant: string } | undefined;
}
