/**
 * IP addresses for the blocklist and the per-IP rate limit, parsed with ipaddr.js.
 *
 * An IPv4 client reaching a dual-stack socket shows up as `::ffff:1.2.3.4`
 * (RFC 4291 §2.5.5.2); it is turned into the IPv4 address it carries so IPv4
 * rules match it. IPv4 is accepted only in four-part decimal: ipaddr.js would
 * also read `010.1` (octal, short forms), which no socket reports and which in a
 * blocklist is almost certainly a typo.
 */
import { createRequire } from 'node:module';
import type * as IpaddrModule from 'ipaddr.js';
import type { IPv4, IPv6 } from 'ipaddr.js';

// ipaddr.js is CommonJS assigning `module.exports`, so Node's ESM loader sees no
// named exports, and this repository compiles without esModuleInterop.
const ipaddr = createRequire(import.meta.url)('ipaddr.js') as typeof IpaddrModule;

export type IpAddress = IPv4 | IPv6;

/** One blocklist entry: an address and the prefix length that must match. */
export interface IpRule {
  readonly address: IpAddress;
  readonly bits: number;
  /** As configured, for log details. */
  readonly text: string;
}

/** Parses a client address; `undefined` when it is not one. IPv4-mapped IPv6 becomes IPv4. */
export function parseIp(text: string): IpAddress | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (!ipaddr.IPv6.isValid(text)) return undefined;
  const address = ipaddr.IPv6.parse(text);
  return address.isIPv4MappedAddress() ? address.toIPv4Address() : address;
}

/**
 * Parses a blocklist entry: an address (`203.0.113.7`, `2001:db8::1`) or a CIDR
 * (`203.0.113.0/24`, `2001:db8::/32`, `::ffff:203.0.113.0/120`). Throws a
 * RangeError with the reason when it is neither.
 */
export function parseIpRule(text: string): IpRule {
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const bitsText = slash === -1 ? undefined : text.slice(slash + 1);
  let address: IpAddress;
  if (ipaddr.IPv4.isValidFourPartDecimal(addressText)) {
    address = ipaddr.IPv4.parse(addressText);
  } else if (ipaddr.IPv6.isValid(addressText) && !addressText.includes('%')) {
    address = ipaddr.IPv6.parse(addressText);
  } else {
    throw new RangeError(`"${text}" is not an IPv4 or IPv6 address or CIDR`);
  }
  const maxBits = address.kind() === 'ipv4' ? 32 : 128;
  let bits = maxBits;
  if (bitsText !== undefined) {
    if (!/^\d{1,3}$/.test(bitsText) || Number(bitsText) > maxBits) {
      throw new RangeError(`"${text}" has a bad prefix length (0 to ${maxBits})`);
    }
    bits = Number(bitsText);
  }
  // `::ffff:a.b.c.d/n` with n >= 96 is a range of IPv4-mapped addresses: match it as IPv4.
  if (address.kind() === 'ipv6' && bits >= 96) {
    const v6 = address as IPv6;
    if (v6.isIPv4MappedAddress()) return { address: v6.toIPv4Address(), bits: bits - 96, text };
  }
  return { address, bits, text };
}

/** The first rule `address` falls in, if any. */
export function matchIpRules(address: IpAddress, rules: readonly IpRule[]): IpRule | undefined {
  return rules.find(
    (rule) => rule.address.kind() === address.kind() && address.match(rule.address, rule.bits),
  );
}

/**
 * The key a per-IP rate limit counts under: the IPv4 address, or the IPv6 network
 * of `ipv6PrefixLength` bits (one subscriber usually holds a whole /64, so counting
 * single IPv6 addresses would let one client rotate through 2^64 of them).
 */
export function rateKeyOf(address: IpAddress, ipv6PrefixLength: number): string {
  if (address.kind() === 'ipv4') return address.toString();
  const network = ipaddr.IPv6.networkAddressFromCIDR(
    `${address.toNormalizedString()}/${ipv6PrefixLength}`,
  );
  return `${network.toString()}/${ipv6PrefixLength}`;
}
