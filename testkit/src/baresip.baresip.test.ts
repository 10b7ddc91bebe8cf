import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { analyse } from './audio.js';
import { type BaresipAgent, startBaresipAgent } from './baresip.js';
import { stopAll } from './process.js';
import { bundledScenario } from './scenarios.js';
import { type SippInstance, runSipp, startSipp } from './sipp.js';

const peers: { stop(): Promise<unknown> }[] = [];
async function track<T extends BaresipAgent | SippInstance>(peer: Promise<T>): Promise<T> {
  const started = await peer;
  peers.push(started);
  return started;
}

afterEach(async () => {
  // Newest first: an agent quits at once only while its registrar still answers the un-REGISTER.
  for (const peer of peers.splice(0).reverse()) await peer.stop();
});
afterAll(() => stopAll());

describe('baresip agent', () => {
  it.each(['udp', 'tcp'] as const)(
    'registers with digest auth at the sipp stand-in registrar over %s',
    async (transport) => {
      const registrar = await track(
        startSipp({ scenario: await bundledScenario('registrar'), transport }),
      );
      const agent = await track(
        startBaresipAgent({
          user: 'agent1',
          password: 'secret',
          registrar: registrar.address,
          transport,
        }),
      );
      await agent.registered(5000);
      // baresip's SIP trace reaches us through its stdout, possibly after REGISTER_OK.
      const okDirection = () =>
        agent.sipMessages().find((m) => m.status === 200 && /REGISTER/.test(m.header('cseq') ?? ''))
          ?.direction;
      await expect.poll(okDirection, { timeout: 3000 }).toBe('in');
      const register = agent.sipMessages().filter((m) => m.method === 'REGISTER');
      expect(register.length).toBeGreaterThanOrEqual(2);
      expect(register.every((m) => m.direction === 'out')).toBe(true);
      expect(register[1]?.header('authorization')).toMatch(/^Digest username="agent1"/);
    },
  );

  it('refuses a wrong password', async () => {
    const registrar = await track(startSipp({ scenario: await bundledScenario('registrar') }));
    const agent = await track(
      startBaresipAgent({ user: 'agent1', password: 'wrong', registrar: registrar.address }),
    );
    await expect(agent.registered(3000)).rejects.toThrow(/REGISTER failed|no REGISTER_OK/);
  });

  it('dials the sipp echo UAS and hears its own tone back', async () => {
    const uas = await track(
      startSipp({ scenario: await bundledScenario('uas-answer-pcmu-echo'), rtpEcho: true }),
    );
    const agent = await track(startBaresipAgent({ user: 'agent1' }));
    const since = agent.mark();
    await agent.dial(`sip:echo@${uas.address}`);
    await agent.waitForEvent('CALL_ESTABLISHED', undefined, 5000, { since });
    await agent.waitForEvent('CALL_RTPESTAB', undefined, 5000, { since });
    await new Promise((r) => setTimeout(r, 1500));
    await agent.hangup();
    await agent.waitForEvent('CALL_CLOSED', undefined, 5000, { since });
    const { received, sent } = agent.lastRecording();
    expect(received).toBeDefined();
    const heard = await analyse(received ?? '');
    const spoke = await analyse(sent ?? '');
    expect(heard.seconds).toBeGreaterThan(1);
    expect(heard.rms).toBeGreaterThan(0.2); // the 800 Hz tone at volume 0.5 has RMS 0.354
    expect(Math.abs(heard.roughFrequencyHz - 800)).toBeLessThan(40);
    expect(Math.abs(spoke.roughFrequencyHz - 800)).toBeLessThan(40);
  });

  it('answers a sipp UAC and shows the INVITE it received, Bearer header included', async () => {
    const agent = await track(startBaresipAgent({ user: 'agent1' }));
    const result = await runSipp({
      scenario: await bundledScenario('uac-bearer-pcmu'),
      remote: `127.0.0.1:${agent.listenPort}`,
      service: 'agent1',
      calls: 1,
      callDurationMs: 1500,
      injection: { rows: [['tok-abc.def-123']] },
    });
    expect(result.exitCode, result.errors).toBe(0);
    expect(result.stats.successful).toBe(1);
    expect(result.rtt).toHaveLength(1);
    const [invite] = agent.receivedRequests('INVITE');
    expect(invite?.header('Authorization')).toBe('Bearer tok-abc.def-123');
    expect(invite?.body).toContain('m=audio');
    expect(invite?.raw).toMatch(/^INVITE sip:agent1@127\.0\.0\.1:\d+ SIP\/2\.0\r\n/);
    await agent.waitForEvent('CALL_CLOSED', undefined, 5000, { since: 0 });
    const heard = await analyse(agent.lastRecording().received ?? '');
    expect(heard.rms).toBeGreaterThan(0.2);
    expect(Math.abs(heard.roughFrequencyHz - 1000)).toBeLessThan(50); // reads ≈975 Hz over G.711
    expect(heard.maxAmplitude).toBeLessThan(0.6);
  });

  it('rings in manual answer mode until accept()', async () => {
    const agent = await track(startBaresipAgent({ user: 'agent1', answerMode: 'manual' }));
    const since = agent.mark();
    const call = runSipp({
      scenario: await bundledScenario('uac-bearer-pcmu'),
      remote: `127.0.0.1:${agent.listenPort}`,
      service: 'agent1',
      calls: 1,
      callDurationMs: 500,
      injection: { rows: [['tok']] },
    });
    const incoming = await agent.waitForEvent('CALL_INCOMING', undefined, 5000, { since });
    expect(incoming.direction).toBe('incoming');
    await new Promise((r) => setTimeout(r, 300));
    await agent.accept();
    const result = await call;
    expect(result.stats.successful, result.errors).toBe(1);
    expect(result.messages).toMatch(/SIP\/2\.0 180 Ringing/);
  });

  it('sees 486 from a busy agent and CANCELs a ringing one', async () => {
    const busy = await track(startSipp({ scenario: await bundledScenario('uas-busy-486') }));
    const ringing = await track(
      startSipp({ scenario: await bundledScenario('uas-ring-no-answer') }),
    );
    const agent = await track(startBaresipAgent({ user: 'agent1' }));

    let since = agent.mark();
    await agent.dial(`sip:agent@${busy.address}`);
    const closed = await agent.waitForEvent('CALL_CLOSED', undefined, 5000, { since });
    expect(closed.param).toMatch(/486/);

    since = agent.mark();
    await agent.dial(`sip:agent@${ringing.address}`);
    await agent.waitForEvent('CALL_RINGING', undefined, 5000, { since });
    await agent.hangup();
    await agent.waitForEvent('CALL_CLOSED', undefined, 5000, { since });
    const cancels = () =>
      agent.sipMessages().filter((m) => m.direction === 'out' && m.method === 'CANCEL').length;
    await expect.poll(cancels, { timeout: 3000 }).toBe(1);
    await expect.poll(() => ringing.stats()?.successful ?? 0, { timeout: 3000 }).toBe(1);
    expect(busy.stats()?.successful ?? (await busy.stop()).stats.successful).toBe(1);
  });
});
