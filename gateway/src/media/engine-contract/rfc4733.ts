/**
 * The engine contract's telephone events (see index.ts): RFC 4733 from the
 * phone reaches the browser at the browser's payload type, and DTMF the
 * gateway sends (a browser's INFO) reaches the phone at the agent's.
 */
import { expect, it } from 'vitest';
import { NdcPeer } from '@parley/testkit/ndc-peer';
import { rtpPayload } from '../test-phone.js';
import type { ContractFixtures } from './fixtures.js';
import { AGENT_EVENT, LOOPBACK, PCMU } from './peers.js';

export function rfc4733Cases({ cleanups, phone, router }: ContractFixtures): void {
  it('carries RFC 4733 events: the phone’s to the browser with the browser’s number, and DTMF to the phone', async () => {
    const r = await router();
    const web = await r.createWebRtcTransport({ name: 'visitor' });
    const plain = await r.createPlainTransport({ name: 'agent' });
    // libdatachannel shows each packet's payload type: PCMU, and telephone-event/8000 at 126 as Chrome numbers it.
    const peer = new NdcPeer({
      codecs: [
        { payloadType: 0, rtpmap: 'PCMU/8000' },
        { payloadType: 126, rtpmap: 'telephone-event/8000' },
      ],
      dataChannel: false,
    });
    cleanups.push(() => peer.close());
    const received = () => peer.received.map((p) => p[1]! & 0x7f);
    const connected = new Promise<void>((resolve) =>
      web.on('state', (s) => s === 'connected' && resolve()),
    );
    const agent = await phone();
    const answer = await web.answer(await peer.offer(), PCMU, AGENT_EVENT);
    plain.setRemote({ address: LOOPBACK, rtpPort: agent.rtp.port, rtcpPort: agent.rtcp.port });
    r.pipe(web, plain);
    peer.apply(answer);
    await connected;

    // The browser's audio, so the gateway's stream toward the phone is live.
    const talking = setInterval(() => peer.send(0, Buffer.alloc(160, 0xff)), 20);
    cleanups.push(() => clearInterval(talking));
    await agent.talk(plain.rtpPort);
    await expect.poll(() => received().includes(0), { timeout: 10_000 }).toBe(true);
    // The phone's event "7" at its own number (101), in its audio stream.
    for (let i = 0; i < 6; i += 1) {
      const end = i >= 3;
      await agent.rtp.send(
        agent.packet(101, Buffer.from([7, end ? 0x8a : 0x0a, 0x01, 0x40]), i === 0),
        plain.rtpPort,
      );
    }
    await expect.poll(() => received().includes(126), { timeout: 10_000 }).toBe(true);
    expect(received()).not.toContain(101);

    // DTMF from the browser (INFO) as RFC 4733 events toward the phone, at the agent's number.
    await expect.poll(() => agent.rtp.received.length, { timeout: 10_000 }).toBeGreaterThan(5);
    expect(await web.sendDtmf('5', 160)).toBe(true);
    const events = () =>
      agent.rtp.received.map((r) => r.data).filter((d) => (d[1]! & 0x7f) === 101);
    // RFC 4733 §2.5.1: updates every 50 ms, then the end packet three times.
    await expect
      .poll(() => events().filter((d) => (rtpPayload(d)[1]! & 0x80) !== 0).length, {
        timeout: 5000,
      })
      .toBe(3);
    expect(events().length).toBeGreaterThanOrEqual(4);
    expect(events().every((d) => rtpPayload(d)[0] === 5)).toBe(true);
    // The browser's audio to the phone carries on after the event.
    const after = agent.rtp.received.length;
    await expect
      .poll(() => agent.rtp.received.length, { timeout: 5000 })
      .toBeGreaterThan(after + 5);
  });
}
