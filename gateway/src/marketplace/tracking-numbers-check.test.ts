import { describe, expect, it } from 'vitest';
import { configSchema } from '../config/schema.js';
import { LEDGER_SCHEMA } from '../ledger/index.js';
import { createLogger } from '../observability/index.js';
import { openDatabase } from '../storage/index.js';
import { inboundNumberLookup } from '../trunks/index.js';
import { Marketplace } from './marketplace.js';
import { MARKETPLACE_SCHEMA } from './schema.js';

/** A marketplace whose pool for acme is +14155550100..+14155550103, with `trunks` connected. */
function start(
  inbound: { number?: string; from?: string; to?: string; tenant: string; flow: string }[],
  fallbackNumber?: string,
) {
  const db = openDatabase(':memory:', [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
  try {
    return new Marketplace({
      db,
      config: configSchema.shape.marketplace.parse({
        tenants: {
          acme: {
            trackingNumbers: { ranges: [{ from: '+14155550100', to: '+14155550103' }] },
            ...(fallbackNumber ? { fallbackNumber } : {}),
          },
        },
      }),
      environment: {
        tenantExists: () => true,
        queueTenant: () => 'acme',
        agentTenant: () => undefined,
        inboundNumber: inboundNumberLookup({ carrier: { inbound: { numbers: inbound } } }),
      },
      logger: createLogger('silent'),
    });
  } finally {
    db.close();
  }
}

describe('tracking numbers and the trunks (start-up cross-check)', () => {
  it("accepts a pool inside a trunk's inbound numbers of the same tenant", () => {
    expect(() =>
      start([{ from: '+14155550100', to: '+14155550199', tenant: 'acme', flow: 'main' }]),
    ).not.toThrow();
  });

  it('refuses a tracking number no trunk lists, naming it', () => {
    expect(() =>
      start([{ from: '+14155550100', to: '+14155550102', tenant: 'acme', flow: 'main' }]),
    ).toThrow(
      /marketplace\.tenants\.acme\.trackingNumbers: \+14155550103 is not an inbound number of any trunk/,
    );
  });

  it('refuses a tracking number that reaches another tenant', () => {
    expect(() =>
      start([
        { number: '+14155550101', tenant: 'globex', flow: 'main' },
        { from: '+14155550100', to: '+14155550199', tenant: 'acme', flow: 'main' },
      ]),
    ).toThrow(/\+14155550101 reaches tenant globex through trunks\.carrier, not acme/);
  });

  it('checks the fallback number too', () => {
    expect(() =>
      start(
        [{ from: '+14155550100', to: '+14155550103', tenant: 'acme', flow: 'main' }],
        '+14155550999',
      ),
    ).toThrow(/fallbackNumber: \+14155550999 is not an inbound number/);
  });
});
