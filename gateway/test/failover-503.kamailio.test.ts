/**
 * Kamailio (deploy/kamailio/) in front of two gateways, one of which cannot
 * fetch the tenant's signing keys (its JWKS URL answers 503): that gateway
 * refuses a visitor's INVITE 503 `key_unavailable`, a 503 about itself (the
 * other gateway has the keys), so Kamailio takes it out of the set and tries
 * the other: the visitor's call is answered (200) by the other gateway's
 * agent. Only the 503s listed as the client's or its tenant's go back to the
 * client as they are (rate_limited…: rate-limit-nat.sipp.test.ts shows one
 * reaching the client with its Reason and Retry-After, the gateway left in
 * the set).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKamailio, stopAll, type BaresipAgent, type Kamailio } from '@parley/testkit';
import type { SipResponse } from '../src/sip/message/index.js';
import { registeredAgent, startTestGateway, testKeys, type TestGateway } from './harness.js';
import {
  ackText,
  inDialogText,
  isFinal,
  isResponse,
  reasonOf,
  routed,
  visitorInvite,
} from './raw-call.js';
import { RawSipClient } from './raw-sip.js';

const EDGE = '127.0.0.2';
const SIP = {
  edge: { trusted: [EDGE] },
  // A lagging machine would refuse calls 503 overloaded: this test is about key_unavailable.
  overload: { maxSetupsInProgress: 10_000, maxLagMs: 60_000 },
};

let keysDown: Server;
/** GETs of the cut-off gateway's JWKS URL: it was sent a call. */
let keyFetches = 0;
let cutOff: TestGateway;
let good: TestGateway;
let agent: BaresipAgent;
let kamailio: Kamailio;

beforeAll(async () => {
  keysDown = createServer((_req, res) => {
    keyFetches += 1;
    res.statusCode = 503;
    res.end();
  });
  await new Promise<void>((resolve) => keysDown.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(keysDown.address() as AddressInfo).port}/jwks.json`;
  // The same keys: either gateway decrypts the visitor's token; only one can check its signature.
  const keys = await testKeys();
  [cutOff, good] = await Promise.all([
    startTestGateway({ keys, sipExtra: SIP, tenantExtra: { jwks: [], jwksUrl } }),
    startTestGateway({ keys, sipExtra: SIP }),
  ]);
  agent = await registeredAgent(good);
  kamailio = await startKamailio({ gateways: [cutOff.udp, good.udp], host: EDGE });
}, 60_000);
afterAll(async () => {
  await agent?.stop();
  await kamailio?.stop();
  await Promise.all([cutOff?.close(), good?.close()]);
  await new Promise<void>((resolve) => (keysDown ? keysDown.close(() => resolve()) : resolve()));
  await stopAll();
});

/** A visitor's call through Kamailio, answered by the agent and hung up; its final answer. */
async function callThroughKamailio(): Promise<SipResponse> {
  const visitor = await RawSipClient.open();
  try {
    const events = agent.mark();
    const { text, callId } = await visitorInvite(good, visitor);
    visitor.send(kamailio.sip, text);
    const final = (await visitor.waitFor(isFinal(callId), 15_000)) as SipResponse;
    if (final.status !== 200) return final;
    visitor.send(kamailio.sip, routed(ackText(visitor, final), final));
    await agent.waitForEvent('CALL_ESTABLISHED', undefined, 10_000, { since: events });
    visitor.send(kamailio.sip, routed(inDialogText(visitor, final, 'BYE', 2), final));
    await visitor.waitFor(isResponse(200, 'BYE', callId), 10_000);
    await agent.waitForEvent('CALL_CLOSED', undefined, 10_000, { since: events });
    return final;
  } finally {
    visitor.close();
  }
}

describe('a gateway-side 503 behind Kamailio', () => {
  it("key_unavailable fails over: the visitor's call is answered by the other gateway", async () => {
    // Round-robin: within two calls one is sent to the cut-off gateway first
    // (it fetches its keys then); up to four, in case a probe reordered the set.
    for (let call = 0; call < 4 && (call < 2 || keyFetches === 0); call += 1) {
      const final = await callThroughKamailio();
      expect(final.status, reasonOf(final)).toBe(200);
    }
    // The cut-off gateway was sent a call (and refused it: its agent-less
    // calls would not reach the agent, registered with the other gateway alone).
    expect(keyFetches).toBeGreaterThan(0);
  });
});
