import { describe, expect, it } from 'vitest';
import { agentPolicy } from './agent-policy.js';

describe('agentPolicy', () => {
  const policy = agentPolicy({
    acme: {
      agentContactHosts: ['10.1.0.0/16', '192.0.2.7', 'pbx.acme.test', '*.trunks.acme.test'],
    },
    globex: { agentNamespace: 'gx-', agentContactHosts: [] },
  });

  it('keeps a tenant key inside its namespace', () => {
    expect(policy.nameRefusal('acme', 'acme.ada', 'acme.ada')).toBeUndefined();
    expect(policy.nameRefusal('acme', 'ada', 'ada')).toMatch(/^id:/);
    expect(policy.nameRefusal('acme', 'acme.', 'acme.')).toMatch(/^id:/);
    expect(policy.nameRefusal('acme', 'acme.ada', 'gx-ada')).toMatch(/^username:/);
    expect(policy.nameRefusal('globex', 'gx-ada', 'gx-ada')).toBeUndefined();
  });

  it('lets contacts point only at the listed addresses, networks and names', () => {
    const ok = (contact: string) => policy.contactRefusal('acme', contact) === undefined;
    expect(ok('sip:1@10.1.2.3:5060')).toBe(true);
    expect(ok('sip:1@192.0.2.7')).toBe(true);
    expect(ok('sip:1@192.0.2.8')).toBe(false);
    expect(ok('sip:1@10.2.0.1')).toBe(false);
    expect(ok('sip:1@PBX.acme.test')).toBe(true);
    expect(ok('sip:1@east.trunks.acme.test')).toBe(true);
    expect(ok('sip:1@trunks.acme.test')).toBe(false);
    expect(ok('sip:1@evil-trunks.acme.test')).toBe(false);
    expect(ok('sip:1@[::1]')).toBe(false);
    // A tenant without a list: any host.
    expect(policy.contactRefusal('globex', 'sip:1@198.51.100.1')).toBeUndefined();
  });
});
