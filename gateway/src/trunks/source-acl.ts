/**
 * Which source addresses may send a trunk's INVITEs: its peers' own IP hosts
 * and the CIDRs of `inbound.allow`. Matching is on the packet's source address
 * (the flow's remote), never on anything in the message, which the sender writes.
 */
import { matchIpRules, parseIp, parseIpRule, type IpRule } from '@parley/shared/screening';

export class SourceAcl {
  readonly #rules: readonly IpRule[];

  /** `entries`: IPs and CIDRs (validated at config load); host names among them are skipped. */
  constructor(entries: readonly string[]) {
    const rules: IpRule[] = [];
    for (const entry of entries) {
      try {
        rules.push(parseIpRule(entry));
      } catch {
        // A peer named by host name: only inbound.allow can admit its address.
      }
    }
    this.#rules = rules;
  }

  allows(address: string): boolean {
    const ip = parseIp(address);
    return ip !== undefined && matchIpRules(ip, this.#rules) !== undefined;
  }
}

/**
 * Every trunk's peer IP hosts and `inbound.allow` entries: the SBC's per-source
 * request limit leaves them out (a carrier sends all its calls from a few
 * addresses, and a trunk's own `maxConcurrentCalls` bounds what it can start),
 * as the TCP per-source connection cap does.
 */
export function trunkSources(
  trunks: Readonly<
    Record<
      string,
      {
        readonly peers: readonly { readonly host: string }[];
        readonly inbound: { readonly allow: readonly string[] };
      }
    >
  >,
): string[] {
  const entries = Object.values(trunks).flatMap((t) => [
    ...t.peers.map((p) => p.host),
    ...t.inbound.allow,
  ]);
  // Host names cannot be matched against a packet's source; inbound.allow admits them.
  return [...new Set(entries)].filter((e) => {
    try {
      parseIpRule(e);
      return true;
    } catch {
      return false;
    }
  });
}
