/**
 * A DID's flow on a real call from the telephone network: sipp is the
 * carrier (127.0.0.2, on the trunk's access list) calling the DID, a baresip
 * phone is the agent. The caller is answered by the gateway, hears the
 * flite prompt, presses 1 (RFC 4733), speaks (sipp's PCMA speech), presses #
 * to end the recording and is dialled to the agent, who answers and hears
 * the caller. What happened is read where it is kept: the call record row,
 * the flow events, the WAV file, the agent's recording.
 */
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlowEvent } from '@parley/shared/protocol';
import {
  analyse,
  bundledScenario,
  runSipp,
  sippAvailable,
  stopAll,
  type BaresipAgent,
} from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deskSocket } from './desk-socket.js';
import { CARRIER, carrierTrunk } from './carrier.js';
import { TENANT, registeredAgent, startTestGateway, type TestGateway } from './harness.js';

const DID = '+14155550142';
const flowEvent = (frame: Record<string, unknown>) => frame['event'] as FlowEvent;

afterAll(() => stopAll());

describe.skipIf(!sippAvailable())('a DID runs its flow on a real call (sipp carrier)', () => {
  let gw: TestGateway;
  let agent: BaresipAgent;
  let recordings: string;

  beforeAll(async () => {
    recordings = await mkdtemp(join(tmpdir(), 'parley-trunk-flows-'));
    gw = await startTestGateway({
      agents: [{ id: 'agent1' }],
      config: {
        storage: { path: ':memory:', recordingsDir: recordings },
        flows: {
          'sales-line': [
            { verb: 'say', text: 'Welcome to Parley. Press one for sales.', interruptible: true },
            { verb: 'gather', numDigits: 1, timeout: 10 },
            { verb: 'record', maxLengthSeconds: 30, finishOnKey: '#', beep: false },
            { verb: 'dial', target: { type: 'agent', agent: 'agent1' }, timeout: 10 },
          ],
        },
        trunks: { carrier: carrierTrunk({ dids: { [DID]: 'sales-line' } }) },
      },
    });
    agent = await registeredAgent(gw, { codecs: ['PCMA', 'PCMU'] });
  });
  afterAll(async () => {
    await agent?.stop();
    await gw?.close();
  });

  it('answers, gathers the key, records the caller and bridges the caller to the agent', async () => {
    const desk = await deskSocket(gw.gateway.httpUrl, 'agent1', 'secret');
    const running = runSipp({
      scenario: await bundledScenario('uac-carrier-flow'),
      remote: gw.udp,
      address: CARRIER,
      calls: 1,
      injection: { rows: [[DID, '4155550199']] },
      timeoutMs: 60_000,
      recvTimeoutMs: 30_000,
    });
    // A desk that connects while the caller records catches up on the flow so far.
    await desk.frame(
      (f) =>
        f['type'] === 'flow' &&
        flowEvent(f).type === 'verb.start' &&
        (flowEvent(f) as { verb?: string }).verb === 'record',
    );
    const late = await deskSocket(gw.gateway.httpUrl, 'agent1', 'secret');
    const result = await running;
    expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
    // The record is final once the call left the manager.
    await gw.callsEnded();

    const stored = await gw.gateway.callStore.listRecent(1, { tenant: TENANT });
    const record = stored[0]!;
    expect(record).toMatchObject({
      channel: 'phone',
      trunk: 'carrier',
      called: DID,
      callerNumber: '+14155550199',
      flow: 'sales-line',
      agentId: 'agent1',
      endedBy: 'visitor',
    });
    expect(record.answeredAt).not.toBeNull();

    const events = await gw.gateway.telephony.events.list(record.id);
    const results = events.filter(
      (e): e is Extract<FlowEvent, { type: 'verb.result' }> => e.type === 'verb.result',
    );
    const byVerb = Object.fromEntries(results.map((e) => [e.verb, e.result]));
    const all = JSON.stringify(events);
    expect(byVerb['say'], all).toMatchObject({ status: 'interrupted', key: '1' });
    expect(byVerb['gather'], all).toMatchObject({ digits: '1', finishedBy: 'numDigits' });
    expect(byVerb['record'], all).toMatchObject({ status: 'completed', endedBy: 'key', key: '#' });
    expect(byVerb['dial'], all).toMatchObject({ status: 'answered', answeredBy: 'agent1' });

    // The recording holds the caller's speech (sipp's g711a.pcap), not silence.
    const recorded = byVerb['record'] as { path: string };
    expect((await stat(recorded.path)).size).toBeGreaterThan(8000);
    const caller = await analyse(recorded.path);
    expect(caller.rms).toBeGreaterThan(0.01);

    // The agent's desk rang with what the caller did in the phone menu before.
    const ring = await desk.frame((f) => f['type'] === 'ring');
    const before = (ring['call'] as { flow?: FlowEvent[] }).flow ?? [];
    expect(
      before.find((e) => e.type === 'verb.result' && e.verb === 'gather'),
      JSON.stringify(before),
    ).toMatchObject({ result: { digits: '1' } });
    // …and saw the flow live, frame by frame, from the first prompt on (issue 10).
    await desk.frame((f) => f['type'] === 'flow' && flowEvent(f).type === 'flow.end');
    await late.frame((f) => f['type'] === 'flow' && flowEvent(f).type === 'flow.end');
    desk.ws.close();
    late.ws.close();
    const caughtUp = late.frames.filter((f) => f['type'] === 'flow').map(flowEvent);
    expect(caughtUp[0]?.type).toBe('flow.start');
    expect(caughtUp.map((e) => e.seq)).toEqual(
      desk.frames
        .filter((f) => f['type'] === 'flow')
        .map(flowEvent)
        .filter((e) => e.type !== 'transcript.partial' && e.type !== 'queue.position')
        .map((e) => e.seq),
    );
    const live = desk.frames.filter((f) => f['type'] === 'flow').map(flowEvent);
    expect(live.every((e) => e.callId === record.id)).toBe(true);
    expect(
      live.map((e) => e.seq),
      'in the order they happened',
    ).toEqual(live.map((e) => e.seq).sort((a, b) => a - b));
    const steps = live
      .filter((e) => e.type !== 'queue.offered')
      .map((e) => ('verb' in e ? `${e.type} ${e.verb}` : e.type));
    expect(steps).toEqual([
      'flow.start',
      'verb.start say',
      'verb.result say',
      'verb.start gather',
      'verb.result gather',
      'verb.start record',
      'verb.result record',
      'verb.start dial',
      'verb.result dial',
      'flow.end',
    ]);
    const gathered = live.find((e) => e.type === 'verb.result' && e.verb === 'gather');
    expect(gathered, JSON.stringify(live)).toMatchObject({
      result: { digits: '1', finishedBy: 'numDigits' },
    });
    // The gather's result reached the desk before the call rang at it.
    const order = desk.frames.map((f) =>
      f['type'] === 'flow' ? `${flowEvent(f).type} ${String(flowEvent(f).seq)}` : f['type'],
    );
    expect(order.indexOf(`verb.result ${gathered!.seq}`)).toBeLessThan(order.indexOf('ring'));
    const flow = (ring['call'] as { flow?: { type: string; verb?: string; result?: unknown }[] })
      .flow;
    const shown = Object.fromEntries(
      (flow ?? []).filter((e) => e.type === 'verb.result').map((e) => [e.verb, e.result]),
    );
    expect(shown, JSON.stringify(flow)).toMatchObject({
      say: { status: 'interrupted', key: '1' },
      gather: { digits: '1' },
      record: { status: 'completed', endedBy: 'key' },
    });

    // The agent's phone rang with the caller's number and heard the caller.
    const invite = agent.receivedRequests('INVITE').at(-1)!;
    expect(invite.header('from')).toContain('+14155550199');
  });
});
