/**
 * What tenants may do with the agents they manage through the API:
 * - names: an API key bound to a tenant creates ids and usernames only in the
 *   tenant's namespace (`agentNamespace`, default `<tenant>.`), so two tenants
 *   never compete for a name and a refusal never says another tenant has it;
 * - contacts: an agent's fixed contact is where the gateway sends INVITEs, so a
 *   tenant may point it only at the hosts its `agentContactHosts` lists
 *   (addresses, CIDRs, names, `*.example.com`); an empty list allows any host.
 */
import { isIP } from 'node:net';
import { addressList, agentContactUri, inList } from '../sip/index.js';

/** Why a tenant may not take a name or point an agent somewhere (undefined: it may). */
export interface AgentPolicy {
  nameRefusal(tenant: string, id: string, username: string): string | undefined;
  contactRefusal(tenant: string, contact: string): string | undefined;
}

/** The part of a tenant's config the policy reads. */
export interface TenantAgentRules {
  readonly agentNamespace?: string | undefined;
  readonly agentContactHosts: readonly string[];
}

export function agentPolicy(tenants: Readonly<Record<string, TenantAgentRules>>): AgentPolicy {
  const hosts = new Map(
    Object.entries(tenants).map(([id, tenant]) => [id, hostRules(tenant.agentContactHosts)]),
  );
  return {
    nameRefusal(tenant, id, username) {
      const namespace = tenants[tenant]?.agentNamespace ?? `${tenant}.`;
      if (!id.startsWith(namespace) || id.length === namespace.length)
        return `id: agents of tenant "${tenant}" have ids starting with "${namespace}"`;
      if (!username.startsWith(namespace))
        return `username: agents of tenant "${tenant}" have usernames starting with "${namespace}"`;
      return undefined;
    },
    contactRefusal(tenant, contact) {
      const rules = hosts.get(tenant);
      if (!rules) return undefined;
      const host = agentContactUri(contact)
        .host.replace(/^\[|\]$/g, '')
        .toLowerCase();
      return rules(host) ? undefined : `host ${host} is not among the tenant's agentContactHosts`;
    },
  };
}

/** A matcher for the listed hosts, or undefined when the list is empty (any host). */
function hostRules(entries: readonly string[]): ((host: string) => boolean) | undefined {
  if (entries.length === 0) return undefined;
  const addresses = addressList(entries.filter((e) => isIP(e.split('/')[0] ?? '') !== 0));
  const names = entries
    .filter((e) => isIP(e.split('/')[0] ?? '') === 0)
    .map((e) => e.toLowerCase());
  return (host) => {
    // An address is matched as an address; a name only against names (never resolved here:
    // what it resolves to later is the name owner's choice, not the list's).
    if (isIP(host) !== 0) return inList(addresses, host);
    return names.some((name) =>
      name.startsWith('*.')
        ? host.endsWith(name.slice(1)) && host.length > name.length - 1
        : host === name,
    );
  };
}
