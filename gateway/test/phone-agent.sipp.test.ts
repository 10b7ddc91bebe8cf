/**
 * Agents who are telephone numbers (`agents[].phone`, calls/trunk-agent-leg.ts)
 * on real peers: a SIP visitor with a call token (sipp) calls a queue whose
 * agents are numbers; the ring strategy calls them out through the tenant's
 * trunks, whose far ends are sipp carriers on 127.0.0.2 (one answering, one
 * busy, one ringing for ever). What the carriers received is read from
 * their own message traces (Request-URI, caller ID, ACK, CANCEL, BYE, counted
 * by transaction); what the gateway decided, from the stored call record.
 */
import {
  PortAllocator,
  bundledScenario,
  runSipp,
  sippAvailable,
  startSipp,
  stopAll,
  until,
  type PortBlock,
  type SippInstance,
} from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRecord } from '../src/storage/index.js';
import { CARRIER } from './carrier.js';
import { TENANT, startTestGateway, type TestGateway } from './harness.js';
import { callersWaiting } from './queue-wait.js';
import { transactionsIn } from './sipp-log.js';

const NUMBERS = {
  ada: '+14155550123',
  bea: '+14155550124',
  cy: '+14155550125',
  dee: '+14155550126',
  eve: '+14155550127',
  fay: '+14155550128',
  gus: '+14155550129',
  hal: '+14155550130',
};

const ports = new PortAllocator();
const held: PortBlock[] = [];
const at: Record<'answer' | 'busy' | 'ring', number> = { answer: 0, busy: 0, ring: 0 };
let gw: TestGateway;

const trunk = (port: number) => ({
  peers: [{ host: CARRIER, port }],
  keepAlive: { intervalSeconds: 0 },
  defaultCountry: 'US',
});
const agent = (id: keyof typeof NUMBERS, queue: string, via: keyof typeof at) => ({
  id,
  tenant: TENANT,
  password: 'secret',
  queues: [queue],
  phone: NUMBERS[id],
  trunk: via,
});

beforeAll(async () => {
  for (const name of ['answer', 'busy', 'ring'] as const) {
    const block = await ports.allocate(1, { protocols: ['udp'] });
    held.push(block);
    at[name] = block.base;
  }
  gw = await startTestGateway({
    config: {
      trunks: { answer: trunk(at.answer), busy: trunk(at.busy), ring: trunk(at.ring) },
      queues: {
        sales: { tenant: TENANT, ringTimeoutSeconds: 10 },
        // Sequential: bea first (idle longest, created first; then by id), cy next.
        support: { tenant: TENANT, ringTimeoutSeconds: 10, maxAttempts: 2 },
        ringing: { tenant: TENANT, ringTimeoutSeconds: 30 },
        waits: { tenant: TENANT, ringTimeoutSeconds: 10, waiting: { announceEverySeconds: 0 } },
        both: { tenant: TENANT, ringTimeoutSeconds: 10, strategy: 'simultaneous', ringAtOnce: 2 },
        // Its only agent is made through the API by the test.
        made: { tenant: TENANT, ringTimeoutSeconds: 10 },
      },
      agents: [
        agent('ada', 'sales', 'answer'),
        agent('bea', 'support', 'busy'),
        agent('cy', 'support', 'answer'),
        agent('dee', 'ringing', 'ring'),
        agent('eve', 'waits', 'answer'),
        agent('fay', 'both', 'ring'),
        agent('gus', 'both', 'answer'),
      ],
    },
  });
});

afterAll(async () => {
  await gw?.close();
  for (const block of held.splice(0)) block.release();
  await stopAll();
});

/** A carrier: sipp on the port of trunk `name`, echoing RTP, tracing what it receives. */
async function carrier(
  name: keyof typeof at,
  scenario: 'uas-carrier-answer' | 'uas-busy-486' | 'uas-ring-no-answer',
): Promise<SippInstance> {
  return startSipp({
    scenario: await bundledScenario(scenario),
    address: CARRIER,
    localPort: at[name],
    traceMessages: true,
    rtpEcho: true,
  });
}

/** The visitor (sipp with a call token for `queue`) calls; resolves with sipp's result. */
async function visitorCalls(
  queue: string,
  session: string,
  scenario: 'uac-bearer-pcmu' | 'uac-cancel' = 'uac-bearer-pcmu',
  durationMs = 2000,
) {
  const token = await gw.token({ subject: session, scope: `queue:${queue}` });
  return runSipp({
    scenario: await bundledScenario(scenario),
    remote: gw.udp,
    service: queue,
    calls: 1,
    callDurationMs: durationMs,
    injection: { rows: [[token]] },
    timeoutMs: 60_000,
  });
}

/** The stored record of the session's call, once ended. */
async function recordOf(session: string): Promise<CallRecord> {
  await gw.callsEnded();
  return until(
    async () =>
      (await gw.gateway.callStore.listRecent(10, { tenant: TENANT })).find(
        (r) => r.sessionId === session && r.state === 'ended',
      ),
    `the ended call of ${session}`,
    20_000,
    100,
  );
}

describe.skipIf(!sippAvailable())('an agent who is a telephone number (sipp)', () => {
  it("is called through the trunk with the session's number as caller ID, answers and is bridged", async () => {
    const far = await carrier('answer', 'uas-carrier-answer');
    const result = await visitorCalls('sales', 'web-sess-phone-1');
    expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
    const record = await recordOf('web-sess-phone-1');
    const log = (await far.stop()).messages;

    const [invite, ...more] = transactionsIn(log, 'INVITE');
    expect(more).toEqual([]);
    expect(invite?.startLine).toBe(`INVITE sip:${NUMBERS.ada}@${CARRIER}:${at.answer} SIP/2.0`);
    // S6: the number the telephone network shows is the web session's.
    expect(record.sessionNumber).toMatch(/^\+\d+$/);
    expect(invite?.header('from')).toContain(`<sip:${record.sessionNumber}@`);
    expect(invite?.header('p-asserted-identity')).toContain(`<sip:${record.sessionNumber}@`);
    expect(invite?.header('to')).toContain(`sip:${NUMBERS.ada}@`);
    expect(invite?.header('x-parley-call')).toBe(record.id);
    // The visitor's private claims and session stay out of the telephone network.
    expect(invite?.header('x-parley-session')).toBeUndefined();
    expect(invite?.body).toMatch(/^m=audio \d+ RTP\/AVP 0\b/m);
    expect(transactionsIn(log, 'ACK')).toHaveLength(1);
    // The visitor hung up (its BYE after -d): the gateway hung up the number.
    expect(transactionsIn(log, 'BYE')).toHaveLength(1);
    expect(transactionsIn(log, 'CANCEL')).toEqual([]);

    expect(record).toMatchObject({ outcome: 'answered', agentId: 'ada', endedBy: 'visitor' });
    expect(record.answeredAt).not.toBeNull();
    expect(record.attempts).toEqual([
      expect.objectContaining({
        agentId: 'ada',
        callId: invite?.header('call-id'),
        via: 'trunk:answer',
        status: 200,
      }),
    ]);
    // The trunk slot went back when the leg ended.
    expect(gw.gateway.trunks.trunk('answer')?.activeCalls).toBe(0);
  });

  it('busy (486) at the first number: the next agent of the queue is called and takes the call', async () => {
    const busy = await carrier('busy', 'uas-busy-486');
    const far = await carrier('answer', 'uas-carrier-answer');
    const result = await visitorCalls('support', 'web-sess-phone-2');
    expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
    const record = await recordOf('web-sess-phone-2');
    const busyLog = (await busy.stop()).messages;
    const log = (await far.stop()).messages;

    const [refused, ...moreRefused] = transactionsIn(busyLog, 'INVITE');
    expect(moreRefused).toEqual([]);
    expect(refused?.startLine).toBe(`INVITE sip:${NUMBERS.bea}@${CARRIER}:${at.busy} SIP/2.0`);
    expect(refused?.header('from')).toContain(`<sip:${record.sessionNumber}@`);
    expect(transactionsIn(busyLog, 'ACK')).toHaveLength(1); // the 486's
    expect(transactionsIn(busyLog, 'CANCEL')).toEqual([]);

    const [invite, ...more] = transactionsIn(log, 'INVITE');
    expect(more).toEqual([]);
    expect(invite?.startLine).toBe(`INVITE sip:${NUMBERS.cy}@${CARRIER}:${at.answer} SIP/2.0`);
    expect(invite?.header('from')).toContain(`<sip:${record.sessionNumber}@`);
    expect(transactionsIn(log, 'BYE')).toHaveLength(1);

    expect(record).toMatchObject({ outcome: 'answered', agentId: 'cy' });
    expect(record.attempts).toEqual([
      expect.objectContaining({
        agentId: 'bea',
        via: 'trunk:busy',
        status: 486,
        reason: 'agent_busy',
      }),
      expect.objectContaining({ agentId: 'cy', via: 'trunk:answer', status: 200 }),
    ]);
    expect(gw.gateway.trunks.trunk('busy')?.activeCalls).toBe(0);
  });

  it('the visitor gives up while the number rings: the number gets a CANCEL', async () => {
    const far = await carrier('ring', 'uas-ring-no-answer');
    // uac-cancel waits for the 180 the gateway relays from the carrier, then 1 s, then CANCELs.
    const result = await visitorCalls('ringing', 'web-sess-phone-3', 'uac-cancel', 1000);
    expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
    const record = await recordOf('web-sess-phone-3');
    const cancel = await until(
      () => transactionsIn(far.messages(), 'CANCEL')[0],
      'the CANCEL at the number',
      10_000,
      50,
    );
    const log = (await far.stop()).messages;
    const [invite] = transactionsIn(log, 'INVITE');
    expect(invite?.startLine).toBe(`INVITE sip:${NUMBERS.dee}@${CARRIER}:${at.ring} SIP/2.0`);
    // RFC 3261 §9.1: the CANCEL's Request-URI and Call-ID are the INVITE's.
    expect(cancel.startLine).toBe(invite?.startLine.replace(/^INVITE/, 'CANCEL'));
    expect(cancel.header('call-id')).toBe(invite?.header('call-id'));
    expect(transactionsIn(log, 'CANCEL')).toHaveLength(1);

    expect(record).toMatchObject({ outcome: 'cancelled', endedBy: 'visitor' });
    expect(record.attempts).toEqual([
      expect.objectContaining({ agentId: 'dee', via: 'trunk:ring' }),
    ]);
    await until(
      () => gw.gateway.trunks.trunk('ring')?.activeCalls === 0 || undefined,
      'the ring trunk slot released',
      10_000,
      50,
    );
  });

  it('two numbers ring together: the one that answers takes the call, the other gets a CANCEL saying it was completed elsewhere', async () => {
    const [ringing, answering] = await Promise.all([
      carrier('ring', 'uas-ring-no-answer'),
      carrier('answer', 'uas-carrier-answer'),
    ]);
    const result = await visitorCalls('both', 'web-sess-phone-5', 'uac-bearer-pcmu', 1000);
    expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
    const record = await recordOf('web-sess-phone-5');
    const cancel = await until(
      () => transactionsIn(ringing.messages(), 'CANCEL')[0],
      'the CANCEL at the number that did not answer',
      10_000,
      50,
    );
    const log = (await ringing.stop()).messages;
    await answering.stop();
    expect(transactionsIn(log, 'INVITE')[0]?.startLine).toBe(
      `INVITE sip:${NUMBERS.fay}@${CARRIER}:${at.ring} SIP/2.0`,
    );
    // RFC 3326: cause 200, so the phone shows no missed call.
    expect(cancel.header('reason')).toBe('SIP;cause=200;text="Call completed elsewhere"');
    expect(transactionsIn(log, 'CANCEL')).toHaveLength(1);
    expect(record).toMatchObject({ outcome: 'answered', agentId: 'gus' });
    expect(record.attempts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ agentId: 'fay', via: 'trunk:ring' }),
        expect.objectContaining({ agentId: 'gus', via: 'trunk:answer' }),
      ]),
    );
  });

  it('an agent made through /v1/agents with a phone is called through its trunk; a bad trunk is refused 400', async () => {
    const refused = await gw.apiRequest<{ error: { code: string; detail: string } }>(
      'PUT',
      '/v1/agents/hal',
      {
        tenant: TENANT,
        password: 'api-made-secret',
        queues: ['made'],
        phone: NUMBERS.hal,
        trunk: 'nope',
      },
    );
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      code: 'bad_request',
      detail: 'trunk: no trunk "nope"',
    });
    const made = await gw.apiRequest<{ contacts: { uri: string }[] }>('PUT', '/v1/agents/hal', {
      tenant: TENANT,
      password: 'api-made-secret',
      queues: ['made'],
      phone: NUMBERS.hal,
      trunk: 'answer',
    });
    expect(made.status).toBe(201);
    expect(made.body.contacts.map((c) => c.uri)).toEqual([`tel:${NUMBERS.hal}`]);

    const far = await carrier('answer', 'uas-carrier-answer');
    const result = await visitorCalls('made', 'web-sess-phone-6');
    expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
    const record = await recordOf('web-sess-phone-6');
    const log = (await far.stop()).messages;
    expect(transactionsIn(log, 'INVITE')[0]?.startLine).toBe(
      `INVITE sip:${NUMBERS.hal}@${CARRIER}:${at.answer} SIP/2.0`,
    );
    expect(record).toMatchObject({ outcome: 'answered', agentId: 'hal' });
    expect(record.attempts).toEqual([
      expect.objectContaining({ agentId: 'hal', via: 'trunk:answer' }),
    ]);
  });

  it('a caller waiting in the queue is offered the phone agent once it is free: called through the trunk', async () => {
    const far = await carrier('answer', 'uas-carrier-answer');
    // The agent is on another call: the caller waits instead of being refused.
    const endOtherCall = gw.gateway.agents.callStarted('eve');
    const waiting = callersWaiting(gw.gateway, 'waits', 1);
    const visitor = visitorCalls('waits', 'web-sess-phone-4', 'uac-bearer-pcmu', 4000);
    await waiting;
    expect(transactionsIn(far.messages(), 'INVITE')).toEqual([]);
    endOtherCall(0);
    const result = await visitor;
    expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
    const record = await recordOf('web-sess-phone-4');
    const log = (await far.stop()).messages;
    const [invite, ...more] = transactionsIn(log, 'INVITE');
    expect(more).toEqual([]);
    expect(invite?.startLine).toBe(`INVITE sip:${NUMBERS.eve}@${CARRIER}:${at.answer} SIP/2.0`);
    expect(invite?.header('from')).toContain(`<sip:${record.sessionNumber}@`);
    expect(transactionsIn(log, 'BYE')).toHaveLength(1);
    expect(record).toMatchObject({ agentId: 'eve', endedBy: 'visitor' });
    expect(record.answeredAt).not.toBeNull();
  });
});
