/**
 * The engine contract's bridges (see index.ts): a browser and a phone (audio
 * both ways, the data channel, the phone behind NAT, moved by a re-INVITE, on
 * hold), a desk agent's browser offered to, two browsers, two plain legs.
 */
import { createSocket } from 'node:dgram';
import { expect, it } from 'vitest';
import type { ContractFixtures } from './fixtures.js';
import { AGENT_EVENT, BROWSER_HZ, LOOPBACK, PCMU, PHONE_HZ, Phone } from './peers.js';

export function bridgingCases({
  browser,
  browserCall,
  phone,
  router,
  socket,
}: ContractFixtures): void {
  it('bridges a browser to a phone: ICE-lite answer, DTLS, audio both ways, the data channel in order', async () => {
    const { web, plain, visitor, agent, states, opened, answer } = await browserCall();
    expect(answer).toMatch(/a=ice-lite/);
    // Exactly the agent's codec (no other to transcode from), and telephone-event at
    // the browser's own number for it (werift also answers it at other clock rates).
    const formats = /m=audio \d+ UDP\/TLS\/RTP\/SAVPF ([\d ]+)\r\n/.exec(answer)?.[1] ?? '';
    const media = formats
      .split(' ')
      .filter((pt) => !new RegExp(`a=rtpmap:${pt} telephone-event/`).test(answer));
    expect(media).toEqual(['0']);
    expect(answer).toMatch(/a=rtpmap:126 telephone-event\/8000/);
    expect(answer).toMatch(/m=application \d+ UDP\/DTLS\/SCTP webrtc-datachannel/);
    await expect.poll(() => states.includes('connected'), { timeout: 10_000 }).toBe(true);

    await agent.talk(plain.rtpPort);
    await expect.poll(() => visitor.hears(PHONE_HZ), { timeout: 10_000 }).toBeGreaterThan(0.8);
    await expect
      .poll(() => Phone.hears(agent.rtp, BROWSER_HZ), { timeout: 10_000 })
      .toBeGreaterThan(0.8);
    // The gateway's RTP comes from the port its SDP gave the phone.
    expect(agent.rtp.received.at(-1)!.from.port).toBe(plain.rtpPort);

    await opened;
    const texts = Array.from({ length: 20 }, (_, i) => `visitor ${i}`);
    const got: string[] = [];
    web.on('message', (text) => got.push(text));
    for (const text of texts) visitor.channel.send(text);
    await expect.poll(() => got.length, { timeout: 5000 }).toBe(texts.length);
    expect(got).toEqual(texts);
    const back = Array.from({ length: 20 }, (_, i) => `gateway ${i}`);
    for (const text of back) expect(web.sendMessage(text)).toBe(true);
    await expect.poll(() => visitor.messages.length, { timeout: 5000 }).toBe(back.length);
    expect(visitor.messages).toEqual(back);

    await expect
      .poll(() => [web.stats().packetsIn > 10, plain.stats().packetsIn > 10], { timeout: 10_000 })
      .toEqual([true, true]);
    expect(web.stats().packetsOut).toBeGreaterThan(10);
    expect(plain.stats().packetsOut).toBeGreaterThan(10);
  });

  it('sends to the phone’s SDP address before it speaks, then follows its real source (NAT), and keeps out a stranger', async () => {
    const { plain, visitor, agent } = await browserCall();
    // The browser speaks first: the phone (an echo, say) gets it at its SDP address.
    await expect
      .poll(() => Phone.hears(agent.rtp, BROWSER_HZ), { timeout: 10_000 })
      .toBeGreaterThan(0.8);
    // Behind NAT, its packets come from elsewhere: media follows them.
    const nat = await socket();
    await agent.talk(plain.rtpPort, nat);
    await expect.poll(() => Phone.hears(nat, BROWSER_HZ), { timeout: 10_000 }).toBeGreaterThan(0.8);
    await expect.poll(() => plain.stats().latchedTo?.port, { timeout: 5000 }).toBe(nat.port);
    await expect.poll(() => visitor.hears(PHONE_HZ), { timeout: 10_000 }).toBeGreaterThan(0.8);
    // A stranger spraying the port while the phone is live takes nothing over.
    const stranger = await socket();
    for (let i = 0; i < 20; i += 1) {
      await stranger.send(agent.packet(0, Buffer.alloc(160, 0x00)), plain.rtpPort);
    }
    const before = nat.received.length;
    await expect.poll(() => nat.received.length, { timeout: 5000 }).toBeGreaterThan(before + 20);
    expect(stranger.received).toHaveLength(0);
    expect(plain.stats().latchedTo?.port).toBe(nat.port);
  });

  it('follows a re-INVITE that moves the phone’s media, and survives a hold at 0.0.0.0', async () => {
    const { plain, visitor, agent } = await browserCall();
    await agent.talk(plain.rtpPort);
    await expect.poll(() => visitor.hears(PHONE_HZ), { timeout: 10_000 }).toBeGreaterThan(0.8);
    // Old-style hold (RFC 3264 §8.4): nothing breaks, media resumes after.
    plain.setRemote({ address: '0.0.0.0', rtpPort: agent.rtp.port });
    plain.setRemote({ address: LOOPBACK, rtpPort: agent.rtp.port, rtcpPort: agent.rtcp.port });
    // A re-INVITE moved the phone's media to another port.
    const moved = await phone();
    plain.setRemote({ address: LOOPBACK, rtpPort: moved.rtp.port, rtcpPort: moved.rtcp.port });
    agent.quiet();
    await expect
      .poll(() => Phone.hears(moved.rtp, BROWSER_HZ), { timeout: 10_000 })
      .toBeGreaterThan(0.8);
    await moved.talk(plain.rtpPort);
    // Its stream may carry a new SSRC (RFC 3550 §8.2): the browser hears it.
    moved.ssrc = 0x5eed0002;
    visitor.heard.length = 0;
    await expect.poll(() => visitor.hears(PHONE_HZ), { timeout: 10_000 }).toBeGreaterThan(0.8);
  });

  it('offers to a browser agent (the desk) and bridges it to a SIP visitor', async () => {
    const r = await router();
    const desk = await r.createWebRtcTransport({ name: 'agent:desk' });
    const plain = await r.createPlainTransport({ name: 'visitor' });
    const caller = await phone();
    plain.setRemote({ address: LOOPBACK, rtpPort: caller.rtp.port, rtcpPort: caller.rtcp.port });
    const deskPeer = browser({ dataChannel: false });
    // The caller's codecs, in its order: the desk keeps the first it has.
    const offer = await desk.offer([
      PCMU,
      { name: 'opus', clockRate: 48000, channels: 2, payloadType: 111 },
    ]);
    expect(offer).toMatch(/a=setup:actpass/);
    const codec = await desk.accept(await deskPeer.answer(offer));
    expect(codec).toMatchObject({ name: 'PCMU', payloadType: 0 });
    r.pipe(plain, desk);
    await caller.talk(plain.rtpPort);
    await expect.poll(() => deskPeer.hears(PHONE_HZ), { timeout: 10_000 }).toBeGreaterThan(0.8);
    await expect
      .poll(() => Phone.hears(caller.rtp, BROWSER_HZ), { timeout: 10_000 })
      .toBeGreaterThan(0.8);
  });

  it('never closes the port of a phone already sending when its leg is bridged to a browser', async () => {
    // A trunk's early media: the carrier streams from its 183 on, and its RTP
    // stack (sipp's, for one) sends on a connected socket that stops for good at
    // the ECONNREFUSED an ICMP port unreachable leaves. The leg's move into the
    // mediasoup worker must hand the port over without a gap.
    const r = await router();
    const web = await r.createWebRtcTransport({ name: 'visitor' });
    const plain = await r.createPlainTransport({ name: 'phone:carrier' });
    const carrier = createSocket('udp4');
    const refused: string[] = [];
    carrier.on('error', (error) => refused.push(error.message));
    await new Promise<void>((resolve) => carrier.bind(0, LOOPBACK, resolve));
    await new Promise<void>((resolve) => carrier.connect(plain.rtpPort, LOOPBACK, resolve));
    let seq = 0;
    const tone = setInterval(() => {
      const packet = Buffer.alloc(172, 0xff);
      packet.writeUInt16BE(0x8000, 0);
      packet.writeUInt16BE(seq & 0xffff, 2);
      packet.writeUInt32BE(seq * 160, 4);
      packet.writeUInt32BE(0x5eed, 8);
      seq += 1;
      carrier.send(packet, (error) => {
        if (error) refused.push(error.message);
      });
    }, 2);
    try {
      const visitor = browser();
      const answer = await web.answer(await visitor.offer(), PCMU, AGENT_EVENT);
      plain.setRemote({ address: LOOPBACK, rtpPort: carrier.address().port, rtcpPort: 9 });
      r.pipe(web, plain);
      await visitor.apply(answer);
      await expect.poll(() => plain.stats().packetsIn, { timeout: 10_000 }).toBeGreaterThan(100);
    } finally {
      clearInterval(tone);
      carrier.close();
    }
    expect(refused).toEqual([]);
  });

  it('bridges two browsers: a visitor and a desk agent', async () => {
    const r = await router();
    const visitorLeg = await r.createWebRtcTransport({ name: 'visitor' });
    const deskLeg = await r.createWebRtcTransport({ name: 'agent:desk' });
    const visitor = browser();
    const desk = browser({ dataChannel: false });
    const visitorOffer = await visitor.offer();
    const deskOffer = await deskLeg.offer([PCMU]);
    const codec = await deskLeg.accept(await desk.answer(deskOffer));
    const answer = await visitorLeg.answer(visitorOffer, codec);
    r.pipe(visitorLeg, deskLeg);
    await visitor.apply(answer);
    // Both send 1 kHz: each hears the other's tone.
    await expect.poll(() => visitor.hears(BROWSER_HZ), { timeout: 10_000 }).toBeGreaterThan(0.8);
    await expect.poll(() => desk.hears(BROWSER_HZ), { timeout: 10_000 }).toBeGreaterThan(0.8);
  });

  it('relays two plain legs (a SIP visitor and a phone) both ways, RTP and RTCP, byte for byte', async () => {
    const r = await router();
    const a = await r.createPlainTransport({ name: 'visitor' });
    const b = await r.createPlainTransport({ name: 'agent' });
    const alice = await phone();
    const bob = await phone();
    a.setRemote({ address: LOOPBACK, rtpPort: alice.rtp.port, rtcpPort: alice.rtcp.port });
    b.setRemote({ address: LOOPBACK, rtpPort: bob.rtp.port, rtcpPort: bob.rtcp.port });
    r.pipe(a, b);
    // A codec the gateway never heard of (dynamic 98) passes unchanged.
    const sent = alice.packet(98, Buffer.from('any codec at all'));
    await alice.rtp.send(sent, a.rtpPort);
    expect((await bob.rtp.waitFor(1)).data).toEqual(sent);
    const back = bob.packet(98, Buffer.from('and back'));
    await bob.rtp.send(back, b.rtpPort);
    expect((await alice.rtp.waitFor(1)).data).toEqual(back);
    const report = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 42]);
    await alice.rtcp.send(report, a.rtcpPort);
    expect((await bob.rtcp.waitFor(1)).data).toEqual(report);
  });
}
