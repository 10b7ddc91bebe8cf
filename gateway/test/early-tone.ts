/**
 * What a SIP caller of a number whose network plays early media gets
 * (sipp's `uas-carrier-early-tone`: 183 with SDP, a 1 kHz PCMU tone, the 200
 * two seconds later), whether a flow dialled the number or the number is a
 * queue's agent: shared by dial-phone-early.sipp and phone-agent-early.sipp.
 */
import { expect } from 'vitest';
import type { SipResponse } from '../src/sip/message/index.js';
import type { RawSipClient } from './raw-sip.js';
import type { RtpVisitor } from './rtp-visitor.js';

/** sipp's pause between its 183 and its 200 (uas-carrier-early-tone.xml). */
export const EARLY_MS = 2000;

/** The audio address of an SDP body. */
export function mediaOf(sdp: string): { host: string; port: number } {
  const host = /^c=IN IP4 (\S+)/m.exec(sdp)?.[1];
  const port = /^m=audio (\d+) /m.exec(sdp)?.[1];
  if (!host || !port) throw new Error(`no audio in\n${sdp}`);
  return { host, port: Number(port) };
}

/**
 * The 183 carries the gateway's relay address (not the carrier's: topology
 * hiding), the 200 the same media about EARLY_MS later, and the caller's
 * RTP socket got at least a second of the 1 kHz tone before the 200.
 */
export async function expectEarlyToneBefore200(o: {
  readonly client: RawSipClient;
  readonly ear: RtpVisitor;
  readonly early: SipResponse;
  readonly ok: SipResponse;
  /** The carrier's own media port: the 183 must not show it. */
  readonly carrierMediaPort: number;
}): Promise<void> {
  const { client, ear, early, ok } = o;
  const okAt = client.received.find((r) => r.message === ok)!.at;
  const earlyAt = client.received.find((r) => r.message === early)!.at;
  const earlySdp = early.body.toString();
  expect(early.headers.get('content-type')).toBe('application/sdp');
  expect(earlySdp).toMatch(/^m=audio \d+ RTP\/AVP 0\b/m);
  const relay = mediaOf(earlySdp);
  expect(relay.port).not.toBe(o.carrierMediaPort);
  expect(mediaOf(ok.body.toString())).toEqual(relay);
  expect(okAt - earlyAt).toBeGreaterThan(EARLY_MS / 2);

  const heard = await ear.analyseReceived(okAt);
  const firstAt = ear.arrivals.get(0)?.[0] ?? Infinity;
  expect(firstAt).toBeLessThan(okAt);
  expect(heard.packets).toBeGreaterThanOrEqual(50);
  expect(heard.rms).toBeGreaterThan(0.1);
  expect(Math.abs(heard.roughFrequencyHz - 1000)).toBeLessThan(100);
}
