import { describe, expect, it } from 'vitest';
import { outboundRefusal, outboundRules, type OutboundRuleSettings } from './outbound-rules.js';

const trunk = (outbound: Partial<OutboundRuleSettings['outbound']> = {}): OutboundRuleSettings => ({
  defaultCountry: 'US',
  outbound: { tenants: [], allowPrefixes: [], denyPrefixes: [], ...outbound },
});

describe('outboundRefusal', () => {
  it('allows every number when no prefix rule is set', () => {
    expect(outboundRefusal('carrier', trunk(), 'acme', '+442079460000')).toBeUndefined();
    expect(outboundRefusal('carrier', trunk(), 'acme', '(415) 555-0100')).toBeUndefined();
  });

  it('refuses a denied prefix, naming the rule and the longest prefix that matched', () => {
    const t = trunk({ allowPrefixes: ['+1'], denyPrefixes: ['+1900', '+19005'] });
    expect(outboundRefusal('carrier', t, 'acme', '900-555-0100')).toEqual({
      rule: 'trunks.carrier.outbound.denyPrefixes',
      kind: 'number',
      detail: '+19005550100 is refused by trunks.carrier.outbound.denyPrefixes (+19005)',
    });
    expect(outboundRefusal('carrier', t, 'acme', '+14155550100')).toBeUndefined();
  });

  it('refuses a number outside the allowed prefixes', () => {
    const t = trunk({ allowPrefixes: ['+1', '+44'] });
    expect(outboundRefusal('carrier', t, 'acme', '+33142685300')).toMatchObject({
      rule: 'trunks.carrier.outbound.allowPrefixes',
      detail: '+33142685300 is not in trunks.carrier.outbound.allowPrefixes (+1, +44)',
    });
    expect(outboundRefusal('carrier', t, 'acme', '+442079460000')).toBeUndefined();
  });

  it('refuses a tenant the trunk does not serve before looking at the number', () => {
    const t = trunk({ tenants: ['globex'], denyPrefixes: ['+1'] });
    expect(outboundRefusal('carrier', t, 'acme', '+14155550100')).toMatchObject({
      rule: 'trunks.carrier.outbound.tenants',
      kind: 'tenant',
    });
  });

  it('refuses what is no telephone number', () => {
    expect(outboundRefusal('carrier', trunk(), 'acme', 'call me')).toMatchObject({
      kind: 'number',
      rule: 'trunks.carrier.defaultCountry',
    });
  });
});

describe('outboundRules', () => {
  const rules = outboundRules({
    premium: trunk({ tenants: ['globex'] }),
    local: trunk({ allowPrefixes: ['+1415'] }),
  });

  it("checks the named trunk, else the first that lets the tenant call out (the dialer's pick)", () => {
    expect(rules('acme', undefined, '+12125550100')).toMatchObject({
      rule: 'trunks.local.outbound.allowPrefixes',
    });
    expect(rules('globex', undefined, '+12125550100')).toBeUndefined();
    expect(rules('acme', 'premium', '+14155550100')).toMatchObject({ kind: 'tenant' });
    expect(rules('acme', 'nope', '+14155550100')).toEqual({
      rule: 'trunks',
      kind: 'tenant',
      detail: 'no trunk nope is configured',
    });
  });

  it('refuses every number for a tenant no trunk serves', () => {
    expect(outboundRules({})('acme', undefined, '+14155550100')).toMatchObject({
      detail: 'no trunk lets tenant acme call out',
    });
  });
});
