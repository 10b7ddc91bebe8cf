/**
 * Calls from the telephone network, with sipp as the carrier: its peer address
 * is 127.0.0.2 (on the trunk's access list), an outsider 127.0.0.3, the
 * gateway 127.0.0.1. What the carrier receives (status, Reason) is read in
 * sipp's own message trace; what the gateway did, in the hook, the trunk's
 * slots and the metrics.
 */
import { once } from 'node:events';
import { bundledScenario, runSipp, sippAvailable, stopAll, type SippResult } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noFlowAttached, type InboundTrunkCall, type Trunk } from '../src/trunks/index.js';
import { TENANT, startTestGateway, type TestGateway } from './harness.js';
import { finalResponse } from './sipp-log.js';

const CARRIER = '127.0.0.2';
const OUTSIDER = '127.0.0.3';

interface CarrierCall {
  /** Where the carrier sends from. */
  readonly address?: string;
  /** The called number as the carrier writes it. */
  readonly called: string;
  readonly caller?: string;
  /** One more header line. */
  readonly header?: string;
  /** RTP payload types offered. */
  readonly payloadTypes?: string;
}

async function carrierCalls(
  gw: TestGateway,
  call: CarrierCall,
  options: {
    scenario?: 'uac-carrier-invite' | 'uac-carrier-ring-cancel';
    calls?: number;
    durationMs?: number;
  } = {},
): Promise<SippResult> {
  const calls = options.calls ?? 1;
  const row = [
    call.called,
    call.caller ?? '4155550199',
    call.header ?? 'X-Test: 1',
    call.payloadTypes ?? '0 8',
  ];
  return runSipp({
    scenario: await bundledScenario(options.scenario ?? 'uac-carrier-invite'),
    remote: gw.udp,
    address: call.address ?? CARRIER,
    calls,
    concurrency: calls,
    rate: 50,
    callDurationMs: options.durationMs ?? 0,
    injection: { rows: Array.from({ length: calls }, () => row) },
    timeoutMs: 30_000,
    recvTimeoutMs: 15_000,
  });
}

function metric(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function metrics(gw: TestGateway): Promise<string> {
  return (await fetch(`${gw.gateway.httpUrl}/metrics`)).text();
}

async function slotsReach(trunk: Trunk, n: number): Promise<void> {
  while (trunk.activeCalls !== n) await once(trunk, 'slots');
}

afterAll(() => stopAll());

describe.skipIf(!sippAvailable())('trunk: calls from the telephone network (sipp carrier)', () => {
  let gw: TestGateway;
  let trunk: Trunk;

  beforeAll(async () => {
    gw = await startTestGateway({
      config: {
        flows: { main: [{ verb: 'hangup' }], 'sales-line': [{ verb: 'hangup' }] },
        trunks: {
          carrier: {
            peers: [{ host: CARRIER }],
            keepAlive: { intervalSeconds: 0 },
            defaultCountry: 'US',
            maxConcurrentCalls: 2,
            inbound: {
              numbers: [
                { from: '+14155550100', to: '+14155550109', tenant: TENANT, flow: 'main' },
                { number: '+14155550142', tenant: TENANT, flow: 'sales-line' },
              ],
            },
          },
        },
      },
    });
    trunk = gw.gateway.trunks.trunk('carrier') as Trunk;
  });
  afterAll(() => gw.close());

  it("runs the DID's flow: one that hangs up before answering refuses the call 603", async () => {
    const result = await carrierCalls(gw, { called: '+14155550142' });
    const final = finalResponse(result.messages);
    expect(final?.status, result.messages).toBe(603);
    // `completed` is no error: a plain decline, without a Reason header.
    expect(final?.header('Reason')).toBeUndefined();
    await slotsReach(trunk, 0);
    const stored = (await gw.gateway.callStore.listRecent(1, { tenant: TENANT }))[0];
    expect(stored).toMatchObject({ channel: 'phone', flow: 'sales-line', outcome: 'failed' });
    expect(
      metric(await metrics(gw), 'parley_trunk_calls_total', 'trunk="carrier",direction="inbound"'),
    ).toBe(1);
  });

  it('hands an accepted DID to the hook with E.164 numbers read from national formats', async () => {
    const seen: InboundTrunkCall[] = [];
    const stack = gw.gateway.stack;
    gw.gateway.trunks.setCallHook((call, invite, tx) => {
      seen.push(call);
      noFlowAttached(stack)(call, invite, tx);
    });
    const asserted = await carrierCalls(gw, {
      called: '415-555-0105',
      caller: '4155550199',
      header: 'P-Asserted-Identity: <tel:+1-415-555-0177>',
    });
    expect(finalResponse(asserted.messages)?.status).toBe(480);
    const anonymous = await carrierCalls(gw, {
      called: '14155550142',
      caller: 'anonymous',
      header: 'Privacy: id',
    });
    expect(finalResponse(anonymous.messages)?.status).toBe(480);
    const national = await carrierCalls(gw, { called: '4155550101', caller: '(415)555-0123' });
    expect(finalResponse(national.messages)?.status).toBe(480);

    expect(seen).toHaveLength(3);
    expect(seen[0]).toMatchObject({
      trunk: 'carrier',
      peer: { id: '127.0.0.2:5060/udp' },
      source: { address: CARRIER, protocol: 'UDP' },
      called: '+14155550105',
      caller: { kind: 'number', number: '+14155550177', private: false },
      tenant: TENANT,
      flow: 'main',
      codecs: ['PCMU', 'PCMA'],
    });
    expect(seen[1]).toMatchObject({
      called: '+14155550142',
      caller: { kind: 'anonymous', raw: 'anonymous' },
      flow: 'sales-line',
    });
    expect(seen[2]).toMatchObject({
      called: '+14155550101',
      caller: { kind: 'number', number: '+14155550123', private: false },
    });
    expect(trunk.activeCalls).toBe(0);
  });

  it('refuses an INVITE from outside the access list with 403 and runs nothing', async () => {
    let hooked = 0;
    gw.gateway.trunks.setCallHook(() => (hooked += 1));
    const before = metric(
      await metrics(gw),
      'parley_trunk_refused_total',
      'trunk="carrier",reason="trunk_source_not_allowed"',
    );
    const result = await carrierCalls(gw, { address: OUTSIDER, called: '4155550100' });
    const final = finalResponse(result.messages);
    expect(final?.status, result.messages).toBe(403);
    expect(final?.header('Reason')).toBe('SIP;cause=403;text="trunk_source_not_allowed"');
    expect(hooked).toBe(0);
    expect(trunk.activeCalls).toBe(0);
    expect(gw.gateway.calls.size).toBe(0);
    expect(gw.gateway.media.routerCount).toBe(0);
    const after = metric(
      await metrics(gw),
      'parley_trunk_refused_total',
      'trunk="carrier",reason="trunk_source_not_allowed"',
    );
    expect(after - before).toBe(1);
  });

  it('answers an unknown DID 404 with a Reason, and an offer without the trunk codecs 488', async () => {
    let hooked = 0;
    gw.gateway.trunks.setCallHook(() => (hooked += 1));
    const unknown = await carrierCalls(gw, { called: '4155550200' });
    expect(finalResponse(unknown.messages)?.status, unknown.messages).toBe(404);
    expect(finalResponse(unknown.messages)?.header('Reason')).toBe(
      'SIP;cause=404;text="trunk_unknown_number"',
    );
    const g729 = await carrierCalls(gw, { called: '4155550100', payloadTypes: '18' });
    expect(finalResponse(g729.messages)?.status, g729.messages).toBe(488);
    expect(finalResponse(g729.messages)?.header('Reason')).toBe(
      'SIP;cause=488;text="offer_required"',
    );
    expect(hooked).toBe(0);
    expect(trunk.activeCalls).toBe(0);
  });

  it('answers 503 trunk_call_limit beyond the cap while its calls ring, and frees the slots after', async () => {
    const stack = gw.gateway.stack;
    // A hook that lets the calls ring until the carrier gives up (what a flow waiting would do).
    gw.gateway.trunks.setCallHook((call, _invite, tx) => {
      stack.respond(tx, 180);
      tx.once('cancel', () => {
        stack.respond(tx, 487);
        call.slot.release();
      });
    });
    const ringing = carrierCalls(
      gw,
      { called: '4155550102' },
      { scenario: 'uac-carrier-ring-cancel', calls: 2, durationMs: 3000 },
    );
    await slotsReach(trunk, 2);
    const third = await carrierCalls(gw, { called: '4155550103' });
    const final = finalResponse(third.messages);
    expect(final?.status, third.messages).toBe(503);
    expect(final?.header('Reason')).toBe('SIP;cause=503;text="trunk_call_limit"');
    const held = await ringing;
    expect(held.stats.successful, held.errors).toBe(2);
    await slotsReach(trunk, 0);
  });
});
