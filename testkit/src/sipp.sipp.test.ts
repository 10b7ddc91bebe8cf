import { afterAll, describe, expect, it } from 'vitest';

import { stopAll } from './process.js';
import { bundledScenario } from './scenarios.js';
import { runSipp, startSipp } from './sipp.js';

afterAll(() => stopAll());

describe('sipp scenarios against sipp', () => {
  it('uac-bearer-pcmu → uas-answer-pcmu-echo: tokens per call, stats and response times', async () => {
    const uas = await startSipp({
      scenario: await bundledScenario('uas-answer-pcmu-echo'),
      rtpEcho: true,
    });
    try {
      const uac = await runSipp({
        scenario: await bundledScenario('uac-bearer-pcmu'),
        remote: uas.address,
        calls: 3,
        rate: 20,
        concurrency: 3,
        callDurationMs: 300,
        injection: { rows: [['tok-1'], ['tok-2'], ['tok-3']] },
      });
      expect(uac.exitCode, uac.errors).toBe(0);
      expect(uac.stats).toMatchObject({ successful: 3, failed: 0, created: 3 });
      expect(uac.rtt.map((s) => s.rtd)).toEqual([1, 1, 1]);
      expect(uac.stats.callLengthMs).toBeGreaterThanOrEqual(300);
      for (const token of ['tok-1', 'tok-2', 'tok-3']) {
        expect(uas.messages()).toContain(`Authorization: Bearer ${token}\r\n`);
      }
    } finally {
      const result = await uas.stop();
      expect(result.stats.successful).toBe(3);
    }
  });

  it('starts a TCP registrar twenty times in a row without racing its own readiness probe', async () => {
    // The readiness check once bound the port itself to see whether sipp held
    // it; a sipp binding in that moment died with "address already in use".
    const scenario = await bundledScenario('registrar');
    for (let i = 0; i < 20; i++) {
      const sipp = await startSipp({ scenario, transport: 'tcp' });
      await sipp.stop({ graceMs: 500 });
    }
  });

  it('uac-cancel → uas-ring-no-answer: CANCEL, 200, 487, ACK', async () => {
    const uas = await startSipp({ scenario: await bundledScenario('uas-ring-no-answer') });
    const uac = await runSipp({
      scenario: await bundledScenario('uac-cancel'),
      remote: uas.address,
      calls: 1,
      callDurationMs: 200,
      injection: { rows: [['tok-cancel']] },
    });
    const server = await uas.stop();
    expect(uac.exitCode, uac.errors).toBe(0);
    expect(uac.stats.successful).toBe(1);
    expect(server.stats.successful, server.errors).toBe(1);
    expect(uac.messages).toMatch(/SIP\/2\.0 487 Request Terminated/);
  });

  it('uas-busy-486 makes the bearer UAC fail with 486', async () => {
    const uas = await startSipp({ scenario: await bundledScenario('uas-busy-486') });
    const uac = await runSipp({
      scenario: await bundledScenario('uac-bearer-pcmu'),
      remote: uas.address,
      calls: 1,
      injection: { rows: [['tok']] },
    });
    const server = await uas.stop();
    expect(uac.exitCode).toBe(1);
    expect(uac.stats.failed).toBe(1);
    expect(uac.errors).toMatch(/486 Busy Here/);
    expect(server.stats.successful).toBe(1);
  });

  it('built-in uac → uas over TCP, and UDP retransmissions under -lost', async () => {
    const tcpUas = await startSipp({ scenario: { builtin: 'uas' }, transport: 'tcp' });
    const tcp = await runSipp({
      scenario: { builtin: 'uac' },
      remote: tcpUas.address,
      transport: 'tcp',
      calls: 5,
      rate: 50,
    });
    await tcpUas.stop();
    expect(tcp.stats.successful, tcp.errors).toBe(5);
    expect(tcp.messages).toMatch(/TCP message sent/);

    const udpUas = await startSipp({ scenario: { builtin: 'uas' } });
    const lossy = await runSipp({
      scenario: { builtin: 'uac' },
      remote: udpUas.address,
      calls: 20,
      rate: 100,
      lostPercent: 20, // P(no INVITE or BYE lost in 40) ≈ 1e-4
      recvTimeoutMs: 2000,
      traceMessages: false,
      timeoutMs: 10_000,
    });
    await udpUas.stop();
    expect(lossy.stats.created).toBe(20);
    expect(lossy.stats.retransmissions).toBeGreaterThan(0);
  });
});
