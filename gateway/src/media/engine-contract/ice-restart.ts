/**
 * The engine contract's ICE restart (see index.ts): a browser that changed
 * networks re-offers with new ICE credentials (RFC 8445 §9) and is heard again.
 */
import { expect, it } from 'vitest';
import { gathered } from '@parley/testkit/wrtc';
import type { ContractFixtures } from './fixtures.js';
import { BROWSER_HZ, PHONE_HZ, Phone } from './peers.js';

export function iceRestartCases({ browserCall }: ContractFixtures): void {
  it('answers an ICE restart (the browser changed networks): new ICE credentials, audio both ways again', async () => {
    const { web, plain, visitor, agent, states, answer } = await browserCall();
    await expect.poll(() => states.includes('connected'), { timeout: 10_000 }).toBe(true);
    await agent.talk(plain.rtpPort);
    await expect.poll(() => visitor.hears(PHONE_HZ), { timeout: 10_000 }).toBeGreaterThan(0.8);

    // libwebrtc takes RTCOfferOptions; the wrapper's types do not say so.
    const createOffer = visitor.pc.createOffer.bind(visitor.pc) as (options: {
      iceRestart: boolean;
    }) => ReturnType<typeof visitor.pc.createOffer>;
    await visitor.pc.setLocalDescription(await createOffer({ iceRestart: true }));
    await gathered(visitor.pc);
    const reoffer = visitor.pc.localDescription!.sdp;
    const ufrag = (sdp: string) => /a=ice-ufrag:(\S+)/.exec(sdp)?.[1];
    expect(ufrag(reoffer)).not.toBe(ufrag(answer));
    const reanswer = await web.renegotiate(reoffer);
    expect(ufrag(reanswer)).toBeDefined();
    expect(ufrag(reanswer)).not.toBe(ufrag(answer));
    await visitor.apply(reanswer);

    // Audio after the restart: what is heard from here on, both ways.
    visitor.heard.length = 0;
    const phoneHad = agent.rtp.received.length;
    await expect.poll(() => visitor.hears(PHONE_HZ), { timeout: 15_000 }).toBeGreaterThan(0.8);
    await expect
      .poll(() => agent.rtp.received.length - phoneHad > 50 && Phone.hears(agent.rtp, BROWSER_HZ), {
        timeout: 15_000,
      })
      .toBeGreaterThan(0.8);
  });
}
