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
