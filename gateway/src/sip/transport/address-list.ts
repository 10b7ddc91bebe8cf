import { BlockList, isIPv4 } from 'node:net';

export type { BlockList };

/**
 * A set of addresses and CIDRs (`192.0.2.7`, `10.0.0.0/8`, `2001:db8::/32`)
 * matched with Node's BlockList; undefined when empty. Throws a RangeError
 * naming the entry that is neither.
 */
export function addressList(entries: readonly string[]): BlockList | undefined {
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits, extra] = entry.split('/');
    const type = isIPv4(address) ? 'ipv4' : 'ipv6';
    try {
      if (extra !== undefined) throw new Error('two slashes');
      if (bits === undefined) list.addAddress(address, type);
      else if (/^\d{1,3}$/.test(bits)) list.addSubnet(address, Number(bits), type);
      else throw new Error('bad prefix length');
    } catch {
      throw new RangeError(`"${entry}" is not an IP address or CIDR`);
    }
  }
  return list;
}

/** Whether `address` (as a socket reports it) is in `list`; IPv4-mapped IPv6 counts as IPv4. */
export function inList(list: BlockList | undefined, address: string): boolean {
  if (!list || !address) return false;
  // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d (RFC 4291 §2.5.5.2).
  const plain =
    address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
  try {
    return list.check(plain, isIPv4(plain) ? 'ipv4' : 'ipv6');
  } catch {
    return false;
  }
}
