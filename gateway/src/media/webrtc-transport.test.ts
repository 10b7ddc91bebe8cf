/**
 * The WebRTC transport against a werift peer standing in for a browser (full
 * ICE, on 127.0.0.1 only; its STUN lookup aimed at a closed local port so
 * nothing leaves the machine): the agent's audio and its RFC 4733 events reach
 * the browser with the browser's own payload types.
 */
import { createSocket } from 'node:dgram';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { PortAllocator } from '@parley/testkit';
import { createRelayEngine } from './relay-engine.js';

const ports = new PortAllocator();
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const rtp = (pt: number, seq: number, ts: number, payload: Buffer) => {
  const out = Buffer.alloc(12 + payload.length);
  out[0] = 0x80;
  out[1] = pt;
  out.writeUInt16BE(seq, 2);
  out.writeUInt32BE(ts, 4);
  out.writeUInt32BE(0x1234, 8);
  payload.copy(out, 12);
  return out;
};

/** A relay engine bound to 127.0.0.1 on free ports, closed after the tests. */
async function loopbackEngine(options: { announcedAddress?: string } = {}) {
  const media = await ports.allocate(20, { protocols: ['udp'] });
  const webrtc = await ports.allocate(20, { protocols: ['udp'] });
  const engine = createRelayEngine({
    address: '127.0.0.1',
    ...options,
    portMin: media.base,
    portMax: media.base + media.size - 1,
    webrtcPortMin: webrtc.base,
    webrtcPortMax: webrtc.base + webrtc.size - 1,
    logger: pino({ level: 'silent' }),
  });
  cleanups.push(
    () => engine.close(),
    () => media.release(),
    () => webrtc.release(),
  );
  return { engine, webrtc };
}

/** A werift peer standing in for Chrome: PCMU, and telephone-event/8000 at 126. */
function browserPeer(): RTCPeerConnection {
  return new RTCPeerConnection({
    codecs: {
      audio: [
        new RTCRtpCodecParameters({
          mimeType: 'audio/PCMU',
          clockRate: 8000,
          channels: 1,
          payloadType: 0,
        }),
        new RTCRtpCodecParameters({
          mimeType: 'audio/telephone-event',
          clockRate: 8000,
          channels: 1,
          payloadType: 126,
        }),
      ],
      video: [],
    },
    iceServers: [{ urls: 'stun:127.0.0.1:9' }],
    iceUseIpv4: false,
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
  });
}

/** The peer's offer, once its candidates are gathered. */
async function offerFrom(browser: RTCPeerConnection): Promise<string> {
  browser.addTransceiver('audio', { direction: 'sendrecv' });
  await browser.setLocalDescription(await browser.createOffer());
  await new Promise<void>((resolve) => {
    if (browser.iceGatheringState === 'complete') resolve();
    browser.iceGatheringStateChange.subscribe((s) => s === 'complete' && resolve());
  });
  return browser.localDescription!.sdp;
}

describe('WebRTC transport', () => {
  it('sends the agent’s audio and telephone-event to the browser with the browser’s payload types', async () => {
    const { engine } = await loopbackEngine();
    const router = engine.createRouter({ callId: 'te-test', inactivityTimeoutMs: 0 });
    const web = await router.createWebRtcTransport({ name: 'visitor' });
    const plain = await router.createPlainTransport({ name: 'agent' });

    // The "browser": PCMU and telephone-event/8000 at 126, as Chrome numbers it.
    const browser = browserPeer();
    cleanups.push(() => browser.close());
    const received: number[] = [];
    browser.onTrack.subscribe((track) =>
      track.onReceiveRtp.subscribe((p) => received.push(p.header.payloadType)),
    );
    await offerFrom(browser);

    // The agent answered PCMU with telephone-event at 101 (a PBX's own number for it).
    const answer = await web.answer(
      browser.localDescription!.sdp,
      { name: 'PCMU', clockRate: 8000, channels: 1, payloadType: 0 },
      { name: 'telephone-event', clockRate: 8000, channels: 1, payloadType: 101 },
    );
    expect(answer).toMatch(/a=rtpmap:126 telephone-event\/8000/);
    const connected = new Promise<void>((resolve) =>
      web.on('state', (s) => s === 'connected' && resolve()),
    );
    await browser.setRemoteDescription({ type: 'answer', sdp: answer });
    await connected;
    router.pipe(web, plain);

    // The agent's phone sends audio, then a DTMF event, to the gateway's plain port.
    const phone = createSocket('udp4');
    cleanups.push(() => void phone.close());
    await new Promise<void>((r) => phone.bind(0, '127.0.0.1', r));
    for (let i = 0; i < 30; i += 1) {
      phone.send(rtp(0, 100 + i, 160 * i, Buffer.alloc(160, 0xff)), plain.rtpPort, '127.0.0.1');
      if (i >= 20)
        phone.send(
          rtp(101, 200 + i, 3200, Buffer.from([5, 0x0a, 0x00, 0xa0])),
          plain.rtpPort,
          '127.0.0.1',
        );
      await new Promise((r) => setTimeout(r, 20));
    }
    await expect.poll(() => received.includes(126), { timeout: 5000 }).toBe(true);
    expect(received).toContain(0);
    expect(received).not.toContain(101);
  }, 20_000);

  it('announces the configured public address in SDP and ICE, while binding the local one', async () => {
    const { engine, webrtc } = await loopbackEngine({ announcedAddress: '192.0.2.44' });
    const router = engine.createRouter({ callId: 'nat-test', inactivityTimeoutMs: 0 });
    const plain = await router.createPlainTransport({ name: 'agent' });
    expect(plain.localAddress).toBe('192.0.2.44');
    const web = await router.createWebRtcTransport({ name: 'visitor' });
    const browser = browserPeer();
    cleanups.push(() => browser.close());
    const answer = await web.answer(await offerFrom(browser), {
      name: 'PCMU',
      clockRate: 8000,
      channels: 1,
      payloadType: 0,
    });
    const candidates = answer.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'));
    expect(candidates.length).toBeGreaterThan(0);
    for (const line of candidates) {
      expect(line).toContain(' 192.0.2.44 ');
      const port = Number(line.split(' ')[5]);
      expect(port).toBeGreaterThanOrEqual(webrtc.base);
      expect(port).toBeLessThan(webrtc.base + webrtc.size);
    }
    expect(answer).not.toMatch(/a=candidate:.* 127\.0\.0\.1 /);
  });
});
