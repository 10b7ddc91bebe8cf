/**
 * Visitors behind one NAT (one public address) share its per-source budget
 * for what is out of any dialog (new INVITEs, REGISTER, OPTIONS), but not for
 * their calls in progress: an established dialog's own requests count per
 * dialog (`sip.rateLimit.perDialog`), so a neighbour's flood cannot starve a
 * call's re-INVITE (an ICE restart) or BYE. Requests for dialogs the gateway
 * does not know (made-up To tags) still count per source. A visitor's call
 * (raw UDP, answered by a baresip agent) and a sipp flooder share one
 * address, directly and through Kamailio (deploy/kamailio/: the source is
 * then the address in X-Parley-Source). Through Kamailio the gateway's
 * rate_limited 503 must also reach the flooder as it is: it says nothing of
 * the gateway, so Kamailio neither takes the gateway out of its set nor tries
 * the next one (with its Reason and Retry-After). A ringing visitor's CANCEL
 * (no To tag: no dialog) matches its pending INVITE from the same address and
 * counts on that call's budget: it is not refused when a neighbour has spent
 * the address's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bundledScenario,
  runSipp,
  sippAvailable,
  startBaresipAgent,
  startKamailio,
  stopAll,
  type BaresipAgent,
  type Kamailio,
} from '@parley/testkit';
import type { SipResponse } from '../src/sip/message/index.js';
import { startTestGateway, type TestGateway } from './harness.js';
import {
  ackText,
  cancelText,
  inDialogText,
  isFinal,
  isResponse,
  optionsText,
  plainOffer,
  reasonOf,
  routed,
  visitorInvite,
} from './raw-call.js';
import { RawSipClient } from './raw-sip.js';
import { responsesIn, type ReceivedResponse } from './sipp-log.js';

const EDGE = '127.0.0.2';
/** Each NAT's budget: a burst of 5 and (almost) no refill, so a flood empties it for the test's length. */
const RATE = { perSecond: 0.01, burst: 5 };
const RATE_LIMITED = 'SIP;cause=503;text="rate_limited"';
/**
 * The neighbour's flood: ten times the NAT's burst, sent at once. (200 at once
 * through Kamailio on a loaded 2-core machine left some of Kamailio's branches
 * unanswered past its 2 s timer, which marks the gateway dead: the load's doing,
 * not the limiter's.)
 */
const FLOOD = 50;

let gw: TestGateway;
let agent: BaresipAgent;
/** A second gateway whose agent rings until told (the CANCEL test). */
let ringing: TestGateway;
let ringingAgent: BaresipAgent;
let kamailio: Kamailio;

beforeAll(async () => {
  gw = await startTestGateway({
    sipExtra: {
      rateLimit: RATE,
      edge: { trusted: [EDGE] },
      overload: { maxSetupsInProgress: 10_000, maxLagMs: 60_000 },
    },
  });
  agent = await startBaresipAgent({ user: 'agent1', password: 'secret', registrar: gw.udp });
  await agent.registered();
  kamailio = await startKamailio({ gateways: [gw.udp], host: EDGE });
  ringing = await startTestGateway({
    sipExtra: { rateLimit: RATE, overload: { maxSetupsInProgress: 10_000, maxLagMs: 60_000 } },
    ringTimeoutSeconds: 30,
  });
  ringingAgent = await startBaresipAgent({
    user: 'agent1',
    password: 'secret',
    registrar: ringing.udp,
    answerMode: 'manual',
  });
  await ringingAgent.registered();
}, 60_000);
afterAll(async () => {
  await agent?.stop();
  await ringingAgent?.stop();
  await ringing?.close();
  await kamailio?.stop();
  await gw?.close();
  await stopAll();
});

/** Responses in sipp's trace (which repeats each unexpected message: counted once). */
const received = (log: string) =>
  responsesIn(
    log
      .split(/^-{10,}.*$/m)
      .filter((block) => !/Unexpected/.test(block))
      .join('\n-----------------------------------------------\n'),
  );

/** An in-dialog re-INVITE with a new offer (what an ICE restart is to SIP). */
function reinviteText(visitor: RawSipClient, ok: SipResponse, seq: number): string {
  const body = plainOffer(4000, 2);
  return (
    inDialogText(visitor, ok, 'INVITE', seq).replace(
      'Content-Length: 0\r\n',
      `Content-Type: application/sdp\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`,
    ) + body
  );
}

interface Path {
  readonly name: string;
  /** The NAT's public address (each path its own, so each starts with a full budget). */
  readonly nat: string;
  /** Where the visitor and the flooder send (the gateway, or Kamailio). */
  readonly target: () => string;
  /** The neighbour's flood: requests the gateway counts per source. */
  readonly flood: 'uac-options-totag-flood' | 'uac-invite-flood';
  /** The answers to the flood the gateway let through (the rest of the burst). */
  readonly passed: number;
  /** Every flood request is answered: a proxy's branch left unanswered is a gateway taken for dead. */
  readonly allAnswered: boolean;
}

const PATHS: readonly Path[] = [
  // Made-up To tags: dialogs nobody knows, answered 481 while the budget lasts.
  {
    name: 'directly',
    nat: '127.0.0.5',
    target: () => gw.udp,
    flood: 'uac-options-totag-flood',
    passed: 481,
    // Directly, refusals past a second budget are dropped (no reflection at a spoofable source).
    allAnswered: false,
  },
  // Kamailio answers made-up To tags itself (no Route: 404): its clients' flood is new calls.
  {
    name: 'through Kamailio',
    nat: '127.0.0.6',
    target: () => kamailio.sip,
    flood: 'uac-invite-flood',
    // The token is junk: 403 malformed.
    passed: 403,
    allAnswered: true,
  },
];

describe.skipIf(!sippAvailable()).each(PATHS)('visitors behind one NAT, $name', (path) => {
  it("a neighbour's flood empties the address's budget, yet the call's re-INVITE and BYE are answered", async () => {
    const visitor = await RawSipClient.open(path.nat);
    try {
      // The visitor's call: its INVITE takes one of the NAT's five tokens.
      const events = agent.mark();
      const { text, callId } = await visitorInvite(gw, visitor);
      visitor.send(path.target(), text);
      const ok = (await visitor.waitFor(isFinal(callId), 15_000)) as SipResponse;
      expect(ok.status, reasonOf(ok)).toBe(200);
      visitor.send(path.target(), routed(ackText(visitor, ok), ok));
      await agent.waitForEvent('CALL_ESTABLISHED', undefined, 10_000, { since: events });

      // The neighbour: FLOOD requests from the same address, as fast as sipp sends them.
      const flood = await runSipp({
        scenario: await bundledScenario(path.flood),
        remote: path.target(),
        address: path.nat,
        service: 'sales',
        rate: FLOOD,
        calls: FLOOD,
        concurrency: FLOOD,
        callDurationMs: 1000,
        keys: { token: 'not.a.token' },
        traceMessages: true,
        extraArgs: ['-nd'],
        timeoutMs: 30_000,
      });
      // One final answer per request (a non-2xx to an INVITE is resent until ACKed: counted once).
      const finals = new Map<string, ReceivedResponse>();
      for (const r of received(flood.messages))
        if (r.status >= 200) finals.set(r.header('call-id') ?? '', r);
      const answers = [...finals.values()];
      // The rest of the burst got through; every other request was refused by the limiter, as today.
      expect(answers.filter((r) => r.status === path.passed).length).toBeLessThanOrEqual(
        RATE.burst - 1,
      );
      const refused = answers.filter((r) => r.status === 503);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.filter((r) => r.header('reason') !== RATE_LIMITED)).toEqual([]);
      // With the time to wait: through Kamailio too (tm would relay a 503 as a bare 500).
      expect(refused.filter((r) => r.header('retry-after') !== '5')).toEqual([]);
      if (path.allAnswered) {
        expect(answers.length).toBe(FLOOD);
        expect(await kamailio.gateways()).toEqual({ [gw.udp]: 'active' });
      }

      // The address is out of budget: the visitor's own out-of-dialog OPTIONS is refused too…
      visitor.send(path.target(), optionsText(visitor, `sales@${gw.udp}`));
      const options = (await visitor.waitFor(
        (m) => m.type === 'response' && m.cseq.method === 'OPTIONS',
        5000,
      )) as SipResponse;
      expect(options.status).toBe(503);
      expect(options.headers.get('reason')).toBe(RATE_LIMITED);
      expect(options.headers.get('retry-after')).toBe('5');

      // …but its call's requests count against the call alone.
      visitor.send(path.target(), routed(reinviteText(visitor, ok, 2), ok));
      const reinvited = (await visitor.waitFor(
        (m) => m.type === 'response' && m.callId === callId && m.cseq.seq === 2 && m.status >= 200,
        10_000,
      )) as SipResponse;
      expect(reinvited.status, reasonOf(reinvited)).toBe(200);
      visitor.send(path.target(), routed(ackText(visitor, reinvited), ok));
      visitor.send(path.target(), routed(inDialogText(visitor, ok, 'BYE', 3), ok));
      const bye = (await visitor.waitFor(isResponse(200, 'BYE', callId), 10_000)) as SipResponse;
      expect(bye.status).toBe(200);
      await agent.waitForEvent('CALL_CLOSED', undefined, 10_000, { since: events });
    } finally {
      visitor.close();
    }
  });
});

describe('a ringing visitor behind a flooded NAT', () => {
  it('cancels its call: the CANCEL counts on the call, not on the spent address budget', async () => {
    const nat = '127.0.0.7';
    const visitor = await RawSipClient.open(nat);
    const neighbour = await RawSipClient.open(nat);
    try {
      const events = ringingAgent.mark();
      const { text, callId } = await visitorInvite(ringing, visitor);
      visitor.send(ringing.udp, text);
      await ringingAgent.waitForEvent('CALL_INCOMING', undefined, 10_000, { since: events });

      // The neighbour spends the rest of the address's budget (the INVITE took one token).
      const refusedOptions = async () => {
        const options = optionsText(neighbour, `sales@${ringing.udp}`);
        const optionsId = /^Call-ID: (.*)$/m.exec(options)?.[1]?.trim();
        neighbour.send(ringing.udp, options);
        const r = (await neighbour.waitFor(
          (m) => m.type === 'response' && m.callId === optionsId,
          5000,
        )) as SipResponse;
        return r.status === 503;
      };
      let refused = false;
      for (let i = 0; i < RATE.burst && !refused; i += 1) refused = await refusedOptions();
      expect(refused).toBe(true);

      visitor.send(ringing.udp, cancelText(text));
      const cancelled = (await visitor.waitFor(
        (m) => m.type === 'response' && m.callId === callId && m.cseq.method === 'CANCEL',
        5000,
      )) as SipResponse;
      expect(cancelled.status, reasonOf(cancelled)).toBe(200);
      const final = (await visitor.waitFor(isFinal(callId), 10_000)) as SipResponse;
      expect(final.status).toBe(487);
      await ringingAgent.waitForEvent('CALL_CLOSED', undefined, 10_000, { since: events });
    } finally {
      visitor.close();
      neighbour.close();
    }
  });
});
