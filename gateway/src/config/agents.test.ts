import { generateEncryptionKeyPair, generateSigningKeyPair } from '@parley/shared/tokens';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './load.js';

let base: Record<string, unknown>;

beforeAll(async () => {
  const gateway = await generateEncryptionKeyPair();
  const tenant = await generateSigningKeyPair();
  base = {
    gatewayId: 'gw',
    tokens: { encryptionKeys: [gateway.privateJwk] },
    tenants: { acme: { jwks: [tenant.publicJwk] }, other: { jwks: [tenant.publicJwk] } },
    queues: { sales: { tenant: 'acme' } },
    trunks: {
      carrier: {
        peers: [{ host: '192.0.2.10' }],
        outbound: { tenants: ['acme'], denyPrefixes: ['+1900'] },
      },
      elsewhere: { peers: [{ host: '192.0.2.11' }], outbound: { tenants: ['other'] } },
    },
  };
});

/** The config with one agent of tenant acme in queue sales, with `extra`. */
function withAgent(extra: Record<string, unknown>) {
  return loadConfig({
    input: {
      ...base,
      agents: [{ id: 'ada', tenant: 'acme', password: 'pw', queues: ['sales'], ...extra }],
    },
  });
}

describe('agents[].phone', () => {
  it('takes an E.164 number, with or without a trunk named', () => {
    expect(withAgent({ phone: '+14155550123' }).agents[0]).toMatchObject({
      phone: '+14155550123',
    });
    expect(withAgent({ phone: '+442079460000', trunk: 'carrier' }).agents[0]).toMatchObject({
      phone: '+442079460000',
      trunk: 'carrier',
    });
  });

  it('refuses phone with contact, saying to give one of them', () => {
    expect(() => withAgent({ phone: '+14155550123', contact: 'sip:2001@pbx.example.com' })).toThrow(
      'give either contact (a SIP URI the gateway sends the INVITE to) or phone (a number called through a trunk), not both',
    );
  });

  it('refuses what the trunks could not dial as it is: national form, letters, an impossible length', () => {
    for (const phone of ['4155550123', '+1 415 555 0123', '+1415555', 'tel:+14155550123'])
      expect(() => withAgent({ phone }), phone).toThrow(/is no E\.164 telephone number/);
  });

  it('refuses a trunk without a phone, an unknown trunk, and one the tenant may not call out through', () => {
    expect(() => withAgent({ trunk: 'carrier' })).toThrow(/agents\.0\.trunk: .*give phone too/);
    expect(() => withAgent({ phone: '+14155550123', trunk: 'nope' })).toThrow(
      /agents\.0\.trunk: no trunk "nope"/,
    );
    expect(() => withAgent({ phone: '+14155550123', trunk: 'elsewhere' })).toThrow(
      /agents\.0\.phone: tenant acme may not call out through trunk elsewhere/,
    );
  });

  it("refuses a number the trunk's outbound rules deny", () => {
    expect(() => withAgent({ phone: '+19005550123' })).toThrow(
      /agents\.0\.phone: \+19005550123 is refused by trunks\.carrier\.outbound\.denyPrefixes/,
    );
  });
});
