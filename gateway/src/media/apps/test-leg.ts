/**
 * Test helpers for media applications: a relay engine with one plain leg
 * whose "phone" is a UDP socket on 127.0.0.1, and RTP made and read by hand.
 * @internal
 */
import { until as pollUntil } from '@parley/testkit';
import { pino } from 'pino';
import alawmulaw from 'alawmulaw';
import type { AudioCodec } from '../engine.js';
import { createRelayEngine, type RelayEngine } from '../relay-engine.js';
import type { RelayRouter } from '../relay-router.js';
import type { RelayTransport } from '../relay-transport.js';
import { parseRtp } from '../rtp-packet.js';
import { openTestSocket, reservePortBase, sleep, type TestSocket } from '../test-phone.js';

export const PCMU: AudioCodec = { name: 'PCMU', clockRate: 8000, channels: 1, payloadType: 0 };
export const PCMA: AudioCodec = { name: 'PCMA', clockRate: 8000, channels: 1, payloadType: 8 };
export const EVENTS: AudioCodec = {
  name: 'telephone-event',
  clockRate: 8000,
  channels: 1,
  payloadType: 101,
};

export interface TestLeg {
  readonly engine: RelayEngine;
  readonly router: RelayRouter;
  readonly transport: RelayTransport;
  readonly phone: TestSocket;
  close(): Promise<void>;
}

export async function openTestLeg(): Promise<TestLeg> {
  const base = await reservePortBase(8);
  const engine = createRelayEngine({
    address: '127.0.0.1',
    portMin: base,
    portMax: base + 7,
    logger: pino({ level: 'silent' }),
  });
  const router = engine.createRouter({ callId: 'apps', inactivityTimeoutMs: 0 });
  const transport = await router.createPlainTransport({ name: 'leg' });
  const phone = await openTestSocket();
  transport.setRemote({ address: '127.0.0.1', rtpPort: phone.port });
  return {
    engine,
    router,
    transport,
    phone,
    async close() {
      await phone.close();
      await engine.close();
    },
  };
}

/** µ-law or A-law RTP packets of a sine, 20 ms each. */
export function tonePackets(
  codec: AudioCodec,
  frequencyHz: number,
  count: number,
  options: { ssrc?: number; amplitude?: number; firstSeq?: number } = {},
): Buffer[] {
  const law = codec.name === 'PCMU' ? alawmulaw.mulaw : alawmulaw.alaw;
  const packets: Buffer[] = [];
  for (let n = 0; n < count; n += 1) {
    const pcm = Int16Array.from({ length: 160 }, (_, i) =>
      Math.round(
        (options.amplitude ?? 12000) * Math.sin((2 * Math.PI * frequencyHz * (n * 160 + i)) / 8000),
      ),
    );
    const header = Buffer.alloc(12);
    header[0] = 0x80;
    header[1] = codec.payloadType;
    header.writeUInt16BE(((options.firstSeq ?? 0) + n) & 0xffff, 2);
    header.writeUInt32BE((n * 160) >>> 0, 4);
    header.writeUInt32BE(options.ssrc ?? 0x5eed, 8);
    packets.push(Buffer.concat([header, Buffer.from(law.encode(pcm))]));
  }
  return packets;
}

/** Sends packets 20 ms apart (a phone's pace; the receiver's jitter buffer is not under test). */
export async function sendPaced(
  socket: TestSocket,
  port: number,
  packets: Buffer[],
): Promise<void> {
  for (const packet of packets) {
    await socket.send(packet, port);
    await sleep(20);
  }
}

/** The payloads a phone socket received with `payloadType`, decoded to PCM. */
export function receivedPcm(socket: TestSocket, codec: AudioCodec): Int16Array {
  const law = codec.name === 'PCMU' ? alawmulaw.mulaw : alawmulaw.alaw;
  const parts = socket.received
    .map((r) => parseRtp(r.data))
    .filter((v) => v !== undefined && v.payloadType === codec.payloadType)
    .map((v) => law.decode(v!.payload));
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Amplitude of `frequencyHz` in `pcm` (a one-bin DFT). */
export function levelAt(pcm: Int16Array, rate: number, frequencyHz: number): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < pcm.length; i += 1) {
    re += pcm[i]! * Math.cos((2 * Math.PI * frequencyHz * i) / rate);
    im += pcm[i]! * Math.sin((2 * Math.PI * frequencyHz * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / Math.max(1, pcm.length);
}

/**
 * The loudest `windowMs` window's level at `frequencyHz`: a tone that arrived,
 * whatever silence a late sender (a loaded machine) left around or inside it.
 */
export function peakLevelAt(
  pcm: Int16Array,
  rate: number,
  frequencyHz: number,
  windowMs = 100,
): number {
  const size = Math.round((rate * windowMs) / 1000);
  let peak = 0;
  for (let start = 0; start + size <= pcm.length; start += Math.round(size / 2))
    peak = Math.max(peak, levelAt(pcm.subarray(start, start + size), rate, frequencyHz));
  return peak;
}

/** Polls `check` every 10 ms (the media path is asynchronous): testkit's `until`, for booleans. */
export async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  await pollUntil(check, what, timeoutMs, 10);
}
