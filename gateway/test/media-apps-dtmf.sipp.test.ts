/**
 * The DTMF listener against a real peer: sipp answers our call and presses
 * 1, 5, 9 and # as RFC 4733 telephone-events (the key presses sipp ships as
 * pcaps, each with its end packet sent three times); the listener reports
 * each key once, in order, with its duration.
 */
import { pino } from 'pino';
import { afterAll, expect, it } from 'vitest';
import { bundledScenario, startSipp, stopAll } from '@parley/testkit';
import { MediaApps, type Digit } from '../src/media/apps/index.js';
import { until } from '../src/media/apps/test-leg.js';
import { createRelayEngine } from '../src/media/relay-engine.js';
import { reservePortBase } from '../src/media/test-phone.js';
import { callPeer } from './media-peer-call.js';
import { RawSipClient } from './raw-sip.js';

const logger = pino({ level: 'silent' });
const base = await reservePortBase(8);
const engine = createRelayEngine({
  address: '127.0.0.1',
  portMin: base,
  portMax: base + 7,
  logger,
});
const apps = new MediaApps({ logger });
afterAll(async () => {
  apps.close();
  await engine.close();
  await stopAll();
});

it('hears the keys sipp presses once each, in order', async () => {
  const sipp = await startSipp({
    scenario: await bundledScenario('uas-answer-dtmf'),
    calls: 1,
    timeoutMs: 30_000,
  });
  const client = await RawSipClient.open();
  try {
    const router = engine.createRouter({ callId: 'dtmf', inactivityTimeoutMs: 0 });
    const transport = await router.createPlainTransport({ name: 'phone' });
    const call = await callPeer(client, sipp.address, 'service', transport, 'PCMU');
    expect(call.telephoneEvent?.payloadType).toBe(101);
    const leg = await apps.attach(router, transport, call);
    const digits: Digit[] = [];
    leg.dtmf.on('digit', (d) => digits.push(d));
    await until(() => digits.length >= 4, 'four digits', 10_000);
    await call.bye();
    expect(digits.map((d) => d.digit)).toEqual(['1', '5', '9', '#']);
    // Each pcap's event lasts 2240 timestamp units at 8 kHz: 280 ms.
    expect(digits.map((d) => d.durationMs)).toEqual([280, 280, 280, 280]);
    expect(digits.every((d) => d.source === 'rfc4733')).toBe(true);
    const result = await sipp.result;
    expect(result.exitCode).toBe(0);
    router.close();
  } finally {
    client.close();
    await sipp.stop();
  }
});
