/**
 * ICE restart (RFC 8839 §4.4.1.1.1, issue 16 item 4): a browser whose network
 * changed sends a new offer with new ICE credentials in a re-INVITE; the
 * transport answers it with its own new credentials, ICE runs again, and
 * audio flows both ways on the same DTLS-SRTP session. The "browser" is a
 * werift peer with full ICE on 127.0.0.1.
 */
import { createSocket } from 'node:dgram';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket } from 'werift';
import { PortAllocator } from '@parley/testkit';
import { createRelayEngine } from './relay-engine.js';

const ports = new PortAllocator();
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const PCMU = { name: 'PCMU', clockRate: 8000, channels: 1, payloadType: 0 };

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

async function gathered(browser: RTCPeerConnection): Promise<string> {
  await new Promise<void>((resolve) => {
    if (browser.iceGatheringState === 'complete') resolve();
    browser.iceGatheringStateChange.subscribe((s) => s === 'complete' && resolve());
  });
  return browser.localDescription!.sdp;
}

const ufrag = (sdp: string) => /a=ice-ufrag:(\S+)/.exec(sdp)?.[1];

describe('WebRTC transport: ICE restart', () => {
  it('answers a re-offer with new ICE credentials; audio flows both ways after it', async () => {
    const media = await ports.allocate(10, { protocols: ['udp'] });
    const webrtc = await ports.allocate(10, { protocols: ['udp'] });
    const engine = createRelayEngine({
      address: '127.0.0.1',
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
    const router = engine.createRouter({ callId: 'ice-restart', inactivityTimeoutMs: 0 });
    const web = await router.createWebRtcTransport({ name: 'visitor' });
    const plain = await router.createPlainTransport({ name: 'agent' });

    const browser = browserPeer();
    cleanups.push(() => browser.close());
    let toBrowser = 0;
    browser.onTrack.subscribe((track) => track.onReceiveRtp.subscribe(() => (toBrowser += 1)));
    const transceiver = browser.addTransceiver('audio', { direction: 'sendrecv' });
    await browser.setLocalDescription(await browser.createOffer());
    const answer = await web.answer(await gathered(browser), PCMU);
    await browser.setRemoteDescription({ type: 'answer', sdp: answer });
    await new Promise<void>((resolve) => {
      if (browser.connectionState === 'connected') resolve();
      browser.connectionStateChange.subscribe((s) => s === 'connected' && resolve());
    });

    // The agent's phone, on the plain side.
    const phone = createSocket('udp4');
    cleanups.push(() => void phone.close());
    await new Promise<void>((r) => phone.bind(0, '127.0.0.1', r));
    let toPhone = 0;
    phone.on('message', () => (toPhone += 1));
    const { port: phonePort } = phone.address();
    plain.setRemote({ address: '127.0.0.1', rtpPort: phonePort, rtcpPort: phonePort + 1 });
    router.pipe(web, plain);

    let seq = 0;
    const sendBoth = () => {
      seq += 1;
      const header = new RtpHeader({
        payloadType: 0,
        sequenceNumber: seq,
        timestamp: seq * 160,
        ssrc: 0x5151,
        marker: false,
      });
      transceiver.sender.sendRtp(new RtpPacket(header, Buffer.alloc(160, 0x7f)));
      const out = Buffer.alloc(172);
      out[0] = 0x80;
      out.writeUInt16BE(seq, 2);
      out.writeUInt32BE(seq * 160, 4);
      out.writeUInt32BE(0x2222, 8);
      phone.send(out, plain.rtpPort, '127.0.0.1');
    };
    const pump = setInterval(sendBoth, 20);
    cleanups.push(() => clearInterval(pump));
    await expect.poll(() => toBrowser > 10 && toPhone > 10, { timeout: 5000 }).toBe(true);

    // The network changed: a new offer with new ICE credentials.
    const before = { toBrowser, toPhone };
    await browser.setLocalDescription(await browser.createOffer({ iceRestart: true }));
    const reoffer = await gathered(browser);
    expect(ufrag(reoffer)).not.toBe(ufrag(answer));
    const reanswer = await web.renegotiate(reoffer);
    expect(ufrag(reanswer)).toBeDefined();
    expect(ufrag(reanswer)).not.toBe(ufrag(answer));
    await browser.setRemoteDescription({ type: 'answer', sdp: reanswer });
    // The werift stand-in has the same gap as the gateway's werift (see
    // WeriftTransport.renegotiate): its own ICE checks must be started by hand.
    const ice = transceiver.dtlsTransport.iceTransport;
    if (!ice.connection.nominated) void ice.start();

    await expect
      .poll(() => toBrowser > before.toBrowser + 25 && toPhone > before.toPhone + 25, {
        timeout: 10_000,
      })
      .toBe(true);
    clearInterval(pump);
  }, 30_000);
});
