import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import { Metrics } from '../observability/index.js';
import { Trunks } from './trunks.js';

function trunks(): Trunks {
  const config = loadConfig({
    input: {
      gatewayId: 'gw',
      tokens: { encryptionKeys: [{ kty: 'EC', kid: 'k', d: 'x' }] },
      tenants: {
        acme: { jwks: [{ kty: 'EC', kid: 's' }] },
        other: { jwks: [{ kty: 'EC', kid: 's' }] },
      },
      trunks: {
        us: {
          peers: [{ host: '192.0.2.10' }],
          keepAlive: { intervalSeconds: 0 },
          defaultCountry: 'US',
          maxConcurrentCalls: 1,
          outbound: { tenants: ['acme'], denyPrefixes: ['+1900'] },
        },
      },
    },
  });
  return new Trunks({
    config: config.trunks,
    // Refused dials never reach the SIP stack.
    stack: undefined as never,
    logger: pino({ level: 'silent' }),
    metrics: new Metrics({ defaultMetrics: false }),
  });
}

const sdp = 'v=0\r\n';

describe('Trunks.dial refusals (before any INVITE)', () => {
  it('refuses a tenant the trunk does not serve, and a tenant without a trunk', async () => {
    const t = trunks();
    expect(t.outboundTrunk('acme')).toBe('us');
    expect(t.outboundTrunk('other')).toBeUndefined();
    const other = await t.dial({
      tenant: 'other',
      to: '4155550100',
      callerNumber: '+14155550142',
      sdp,
    }).outcome;
    expect(other).toMatchObject({
      kind: 'failed',
      failure: { reason: 'not_allowed', code: 'trunk_not_allowed' },
    });
    const named = await t.dial({
      tenant: 'other',
      trunk: 'us',
      to: '4155550100',
      callerNumber: '+14155550142',
      sdp,
    }).outcome;
    expect(named).toMatchObject({ kind: 'failed', failure: { code: 'trunk_not_allowed' } });
  });

  it('refuses a number that is none, takes the caller ID as E.164 as it is, and refuses beyond the cap', async () => {
    const t = trunks();
    const bad = await t.dial({ tenant: 'acme', to: '555', callerNumber: '+14155550142', sdp })
      .outcome;
    expect(bad).toMatchObject({
      kind: 'failed',
      failure: { reason: 'invalid_number', code: 'number_invalid' },
    });
    const slot = t.trunk('us')?.acquire('inbound');
    // +15550100 is the default pool's fictional number: not a possible US number, still ours to present.
    const full = await t.dial({
      tenant: 'acme',
      to: '(415) 555-0100',
      callerNumber: '+15550100',
      sdp,
    }).outcome;
    expect(full).toMatchObject({
      kind: 'failed',
      failure: { reason: 'call_limit', code: 'trunk_call_limit' },
    });
    slot?.release();
    expect(t.trunk('us')?.activeCalls).toBe(0);
  });

  it("refuses a number the trunk's outbound rules deny, naming the rule, and holds no slot", async () => {
    const t = trunks();
    const denied = await t.dial({
      tenant: 'acme',
      to: '900 555 0100',
      callerNumber: '+14155550142',
      sdp,
    }).outcome;
    expect(denied).toMatchObject({
      kind: 'failed',
      failure: {
        reason: 'not_allowed',
        code: 'number_not_allowed',
        detail: '+19005550100 is refused by trunks.us.outbound.denyPrefixes (+1900)',
      },
    });
    expect(t.trunk('us')?.activeCalls).toBe(0);
  });

  it('does nothing for a call cancelled before it started', async () => {
    const t = trunks();
    const call = t.dial({ tenant: 'acme', to: '4155550100', callerNumber: '+14155550142', sdp });
    call.cancel();
    expect(await call.outcome).toMatchObject({ kind: 'failed', failure: { reason: 'cancelled' } });
    expect(t.trunk('us')?.activeCalls).toBe(0);
  });
});
