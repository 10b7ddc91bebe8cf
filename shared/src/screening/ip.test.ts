import { describe, expect, it } from 'vitest';
import { matchIpRules, parseIp, parseIpRule, rateKeyOf } from './ip.js';

function blockedBy(ip: string, rules: string[]): string | undefined {
  const address = parseIp(ip);
  if (!address) throw new Error(`bad test address ${ip}`);
  return matchIpRules(address, rules.map(parseIpRule))?.text;
}

describe('parseIp', () => {
  it('reads IPv4, IPv6 and turns IPv4-mapped IPv6 into IPv4', () => {
    expect(parseIp('203.0.113.7')?.toString()).toBe('203.0.113.7');
    expect(parseIp('2001:DB8::1')?.toString()).toBe('2001:db8::1');
    expect(parseIp('::ffff:203.0.113.7')?.toString()).toBe('203.0.113.7');
    expect(parseIp('::ffff:cb00:7107')?.toString()).toBe('203.0.113.7');
    expect(parseIp('fe80::1%eth0')?.kind()).toBe('ipv6');
  });

  it('refuses what is not an address', () => {
    for (const bad of ['', 'localhost', '1.2.3', '010.0.0.1', '0x7f.0.0.1', '1.2.3.4/8', '::g']) {
      expect(parseIp(bad), bad).toBeUndefined();
    }
  });
});

describe('IP rules', () => {
  it('match single IPv4 addresses and CIDRs', () => {
    expect(blockedBy('203.0.113.7', ['203.0.113.7'])).toBe('203.0.113.7');
    expect(blockedBy('203.0.113.8', ['203.0.113.7'])).toBeUndefined();
    expect(blockedBy('198.51.100.200', ['198.51.100.0/24'])).toBe('198.51.100.0/24');
    expect(blockedBy('198.51.101.1', ['198.51.100.0/24'])).toBeUndefined();
    expect(blockedBy('8.8.8.8', ['0.0.0.0/0'])).toBe('0.0.0.0/0');
  });

  it('match IPv6 CIDRs', () => {
    expect(blockedBy('2001:db8:abcd::42', ['2001:db8::/32'])).toBe('2001:db8::/32');
    expect(blockedBy('2001:db9::1', ['2001:db8::/32'])).toBeUndefined();
    expect(blockedBy('2001:db8::1', ['2001:db8::1'])).toBe('2001:db8::1');
  });

  it('match an IPv4-mapped IPv6 client against IPv4 rules, and mapped rules against IPv4 clients', () => {
    expect(blockedBy('::ffff:198.51.100.9', ['198.51.100.0/24'])).toBe('198.51.100.0/24');
    expect(blockedBy('::ffff:198.51.100.9', ['198.51.100.9'])).toBe('198.51.100.9');
    expect(blockedBy('198.51.100.9', ['::ffff:198.51.100.0/120'])).toBe('::ffff:198.51.100.0/120');
  });

  it('never match across families', () => {
    expect(blockedBy('2001:db8::1', ['0.0.0.0/0'])).toBeUndefined();
    expect(blockedBy('1.2.3.4', ['2001:db8::/32'])).toBeUndefined();
  });

  it('reject bad entries with a reason', () => {
    expect(() => parseIpRule('300.1.1.1')).toThrow(/not an IPv4 or IPv6/);
    expect(() => parseIpRule('10.0.0.0/33')).toThrow(/prefix length/);
    expect(() => parseIpRule('2001:db8::/129')).toThrow(/prefix length/);
    expect(() => parseIpRule('10.0.0.0/')).toThrow(/prefix length/);
    expect(() => parseIpRule('10.0.0.0/-1')).toThrow(/prefix length/);
    expect(() => parseIpRule('example.com')).toThrow(/not an IPv4 or IPv6/);
  });
});

describe('rateKeyOf', () => {
  it('counts IPv4 per address and IPv6 per network', () => {
    expect(rateKeyOf(parseIp('203.0.113.7')!, 64)).toBe('203.0.113.7');
    expect(rateKeyOf(parseIp('2001:db8:1:2:aaaa::1')!, 64)).toBe('2001:db8:1:2::/64');
    expect(rateKeyOf(parseIp('2001:db8:1:2:bbbb::9')!, 64)).toBe('2001:db8:1:2::/64');
    expect(rateKeyOf(parseIp('2001:db8:1:2::9')!, 128)).toBe('2001:db8:1:2::9/128');
  });
});
