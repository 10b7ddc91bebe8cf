import { describe, expect, it } from 'vitest';
import type { Config } from '../config/index.js';
import { gatedDidsWithoutGate } from './applications.js';

const config = (flows: Record<string, unknown>) =>
  ({
    tenants: { acme: {}, oaks: { gated: { enabled: true } } },
    flows,
    trunks: {
      carrier: {
        inbound: {
          numbers: [
            { number: '+14155550100', tenant: 'acme', flow: 'menu' },
            { number: '+14155550101', tenant: 'oaks', flow: 'lobby' },
          ],
        },
      },
    },
  }) as unknown as Config;

describe('gatedDidsWithoutGate', () => {
  it("warns for a gated tenant's DID whose flow has no gate verb, only for it", () => {
    const warnings = gatedDidsWithoutGate(
      config({ menu: [{ verb: 'say', text: 'hi' }], lobby: [{ verb: 'say', text: 'hi' }] }),
    );
    expect(warnings).toEqual([
      'trunks.carrier.inbound.numbers.1: tenant "oaks" is gated, but flow "lobby" has no gate verb: its callers never reach a resident',
    ]);
  });

  it('is quiet when the flow gates, or its verbs come from a webhook', () => {
    expect(
      gatedDidsWithoutGate(
        config({ menu: [], lobby: { verbs: [{ verb: 'say', text: 'hi' }, { verb: 'gate' }] } }),
      ),
    ).toEqual([]);
    expect(
      gatedDidsWithoutGate(config({ menu: [], lobby: { webhook: { url: 'https://x.test' } } })),
    ).toEqual([]);
  });
});
