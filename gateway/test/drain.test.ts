/**
 * Drain (issue 16 item 3, docs/scaling.md): what SIGTERM does, through
 * `gateway.drain()`. OPTIONS are answered 503 (Kamailio's dispatcher probing
 * takes the gateway out of its set), new INVITEs are refused 503
 * `gateway_shutdown` before their token is used, `/healthz` says draining, and
 * a call in progress goes on until it ends by itself, or until the drain time
 * is up, when it is ended with `gateway_shutdown`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SipRequest, SipResponse } from '../src/sip/message/index.js';
import { startTestGateway, type TestGateway } from './harness.js';
import {
  answeredCall,
  inDialogText,
  isFinal,
  isRequest,
  optionsText,
  reasonOf,
  visitorInvite,
} from './raw-call.js';
import { RawSipClient } from './raw-sip.js';

let open: { gw?: TestGateway; clients: RawSipClient[] } = { clients: [] };
afterEach(async () => {
  for (const client of open.clients) client.close();
  await open.gw?.close();
  open = { clients: [] };
});

async function setUp() {
  const [visitor, agent, probe] = await Promise.all([
    RawSipClient.open(),
    RawSipClient.open(),
    RawSipClient.open(),
  ]);
  open.clients.push(visitor, agent, probe);
  const gw = await startTestGateway({
    agents: [{ id: 'agent1', contact: `sip:agent1@127.0.0.1:${agent.port}` }],
    maxAttempts: 1,
  });
  open.gw = gw;
  return { gw, visitor, agent, probe };
}

async function probe(gw: TestGateway, client: RawSipClient): Promise<SipResponse> {
  const text = optionsText(client, gw.udp);
  const callId = /Call-ID: (.*)\r/.exec(text)![1]!;
  client.send(gw.udp, text);
  return (await client.waitFor((m) => m.type === 'response' && m.callId === callId)) as SipResponse;
}

async function health(gw: TestGateway): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${gw.gateway.httpUrl}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('drain', () => {
  it('answers OPTIONS 503, refuses new calls, says so on /healthz, and waits for the call in progress to end', async () => {
    const { gw, visitor, agent, probe: prober } = await setUp();
    expect((await probe(gw, prober)).status).toBe(200);
    expect(await health(gw)).toMatchObject({ status: 200, body: { ok: true, draining: false } });

    const call = await answeredCall(gw, visitor, agent);
    const drained = gw.gateway.drain(60_000);
    let done = false;
    void drained.then(() => (done = true));

    const refusedProbe = await probe(gw, prober);
    expect(refusedProbe.status).toBe(503);
    expect(reasonOf(refusedProbe)).toBe('gateway_shutdown');
    expect(refusedProbe.headers.get('retry-after')).toBe('10');
    expect(await health(gw)).toMatchObject({
      status: 503,
      body: { ok: false, draining: true, calls: 1 },
    });
    expect(gw.gateway.draining).toBe(true);

    // A new call is refused before the pipeline: its token is not used up here.
    const token = await gw.token();
    const late = await visitorInvite(gw, visitor, [], token);
    visitor.send(gw.udp, late.text);
    const refused = (await visitor.waitFor(isFinal(late.callId))) as SipResponse;
    expect(refused.status).toBe(503);
    expect(reasonOf(refused)).toBe('gateway_shutdown');

    // The call in progress goes on: an in-dialog request is still answered.
    visitor.send(gw.udp, inDialogText(visitor, call.ok, 'OPTIONS', 2));
    const inDialog = (await visitor.waitFor(
      (m) => m.type === 'response' && m.callId === call.callId && m.cseq.method === 'OPTIONS',
    )) as SipResponse;
    expect(inDialog.status).toBe(200);
    expect(done).toBe(false);

    // The visitor hangs up: the drain is over and the gateway closes.
    visitor.send(gw.udp, inDialogText(visitor, call.ok, 'BYE', 3));
    await agent.waitFor(isRequest('BYE', call.agentInvite.callId));
    await drained;
    const { body } = await fetch(`${gw.gateway.httpUrl}/healthz`).then(
      () => ({ body: 'still listening' }),
      () => ({ body: 'closed' }),
    );
    expect(body).toBe('closed');
  });

  it('ends a call still up when the drain time is over, with gateway_shutdown on both legs', async () => {
    const { gw, visitor, agent } = await setUp();
    const call = await answeredCall(gw, visitor, agent);
    await gw.gateway.drain(300);
    const [toVisitor, toAgent] = (await Promise.all([
      visitor.waitFor(isRequest('BYE', call.callId)),
      agent.waitFor(isRequest('BYE', call.agentInvite.callId)),
    ])) as [SipRequest, SipRequest];
    expect(reasonOf(toVisitor)).toBe('gateway_shutdown');
    expect(reasonOf(toAgent)).toBe('gateway_shutdown');
    const metrics = await gw.gateway.metrics.registry.getSingleMetricAsString(
      'parley_drain_calls_total',
    );
    expect(metrics).toContain('result="cut"} 1');
  });
});
