/**
 * Checks that a mediasoup worker carries the three patches SIP legs need
 * (scripts/mediasoup-worker-build.sh, patches 5-7), by sending it what a SIP
 * phone sends: a stock worker (mediasoup's prebuilt one) drops RTP whose SSRC
 * was never signalled, never sends to a comedia peer before it spoke, and does
 * not forward telephone-events. About 10 ms on loopback, once per start.
 *
 * Leg A is connected to `sdp` (the phone's SDP address) but the phone speaks
 * from `nat`, with an SSRC nobody signalled; leg B's peer must get its audio
 * and its RFC 4733 event, and `sdp` must get B's audio before A's first packet.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import type { types } from 'mediasoup';
import { legCapabilities, rtpCodecs } from './codecs.js';

const LOOPBACK = '127.0.0.1';
const PCMU = { name: 'PCMU', clockRate: 8000, channels: 1, payloadType: 0 };
const EVENT = { name: 'telephone-event', clockRate: 8000, channels: 1, payloadType: 101 };

function packet(ssrc: number, seq: number, payloadType: number): Buffer {
  const out = Buffer.alloc(12 + 160, 0xff);
  out[0] = 0x80;
  out[1] = payloadType;
  out.writeUInt16BE(seq, 2);
  out.writeUInt32BE(seq * 160, 4);
  out.writeUInt32BE(ssrc, 8);
  return out;
}

async function socket(): Promise<Socket> {
  const s = createSocket('udp4');
  s.bind(0, LOOPBACK);
  await once(s, 'listening');
  return s;
}

/** Resolves with what is missing (empty: the worker is fit for SIP legs). */
export async function probeWorker(worker: types.Worker, timeoutMs = 2000): Promise<string[]> {
  const router = await worker.createRouter({
    mediaCodecs: [
      { kind: 'audio', mimeType: 'audio/PCMU', clockRate: 8000, channels: 1 },
      {
        kind: 'audio',
        mimeType: 'audio/telephone-event',
        clockRate: 8000,
        channels: 1,
        preferredPayloadType: 101,
      },
    ],
  });
  const [sdp, nat, peer] = await Promise.all([socket(), socket(), socket()]);
  const seen = { sdp: 0, peerAudio: 0, peerEvent: 0 };
  sdp.on('message', () => (seen.sdp += 1));
  peer.on('message', (m: Buffer) => {
    const pt = m[1]! & 0x7f;
    if (pt === 0) seen.peerAudio += 1;
    else if (pt === 101) seen.peerEvent += 1;
  });
  try {
    const plain = () =>
      router.createPlainTransport({
        listenInfo: { protocol: 'udp', ip: LOOPBACK },
        rtcpMux: true,
        comedia: true,
      });
    const [a, b] = await Promise.all([plain(), plain()]);
    await a.connect({ ip: LOOPBACK, port: sdp.address().port });
    await b.connect({ ip: LOOPBACK, port: peer.address().port });
    const produce = (t: types.PlainTransport, ssrc: number) =>
      t.produce({
        kind: 'audio',
        rtpParameters: { codecs: rtpCodecs(PCMU, EVENT), encodings: [{ ssrc }] },
      });
    const [pa, pb] = await Promise.all([produce(a, 0x5a5a0001), produce(b, 0x5a5a0002)]);
    const caps = legCapabilities(PCMU, EVENT);
    await a.consume({ producerId: pb.id, rtpCapabilities: caps });
    await b.consume({ producerId: pa.id, rtpCapabilities: caps });
    const deadline = Date.now() + timeoutMs;
    for (let seq = 1; Date.now() < deadline; seq += 1) {
      // B's peer speaks (unsignalled SSRC): A's phone hears it at its SDP address.
      peer.send(packet(0x77770000, seq, 0), b.tuple.localPort, LOOPBACK);
      // A's phone speaks from behind its NAT, unsignalled SSRC, audio then an event.
      nat.send(packet(0x88880000, seq, seq % 2 === 0 ? 101 : 0), a.tuple.localPort, LOOPBACK);
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (seen.sdp > 0 && seen.peerAudio > 0 && seen.peerEvent > 0) break;
    }
  } finally {
    router.close();
    for (const s of [sdp, nat, peer]) s.close();
  }
  const missing: string[] = [];
  if (seen.sdp === 0) missing.push('sending to a comedia peer before it speaks (patch 5)');
  if (seen.peerAudio === 0) missing.push('RTP with an unsignalled SSRC, latching (patches 5, 6)');
  if (seen.peerEvent === 0) missing.push('forwarding telephone-events (patch 7)');
  return missing;
}
