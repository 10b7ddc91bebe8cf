/**
 * Attack (issue 17 item 3): sipp floods the gateway from one source as a
 * stranger would, never ACKing: 1,000 INVITEs, and 1,000 OPTIONS with made-up
 * To tags (a To tag once skipped the per-source limiter). The limiter must
 * count every request and refuse without state: the live server transactions
 * stay near the source's budget, and no refusal is retransmitted.
 */
import { bundledScenario, runSipp, sippAvailable } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './harness.js';
import { responsesIn } from './sipp-log.js';

/** Responses sipp received (its trace also repeats each unexpected one: counted once). */
const received = (log: string) =>
  responsesIn(
    log
      .split(/^-{10,}.*$/m)
      .filter((block) => !/Unexpected/.test(block))
      .join('\n-----------------------------------------------\n'),
  );

let gw: TestGateway;
const RATE = { perSecond: 20, burst: 60 };

beforeAll(async () => {
  gw = await startTestGateway({
    sipExtra: {
      rateLimit: RATE,
      // The limiter alone is under test: the overload check (event-loop lag on a loaded
      // machine) is kept out of the way. It still refuses in a transaction (gateway.ts).
      overload: { maxSetupsInProgress: 10_000, maxLagMs: 60_000 },
    },
  });
});
afterAll(async () => {
  await gw?.close();
});

/** The largest server-transaction count seen while `work` runs (sampled every 20 ms). */
async function peakTransactions<T>(work: Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, gw.gateway.stack.transactions.stats().server);
  }, 20);
  try {
    return { result: await work, peak };
  } finally {
    clearInterval(timer);
  }
}

const limited = async () =>
  (await gw.gateway.metrics.sipRateLimited.get()).values.reduce((sum, v) => sum + v.value, 0);

describe.skipIf(!sippAvailable())('floods from one source', () => {
  it('1,000 OPTIONS with made-up To tags are limited too, and answered without state', async () => {
    const before = await limited();
    const started = Date.now();
    const { result: sipp, peak } = await peakTransactions(
      runSipp({
        scenario: await bundledScenario('uac-options-totag-flood'),
        remote: gw.udp,
        // Another source than the INVITE flood's: each has its own budget.
        address: '127.0.0.2',
        service: 'sales',
        rate: 500,
        calls: 1000,
        concurrency: 1000,
        callDurationMs: 1000,
        traceMessages: true,
        extraArgs: ['-nd'],
        timeoutMs: 30_000,
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    const answered = received(sipp.messages).filter((r) => r.status === 481);
    const admitted = RATE.burst + RATE.perSecond * seconds;
    expect(answered.length).toBeGreaterThan(0);
    expect(answered.length).toBeLessThanOrEqual(admitted);
    expect((await limited()) - before).toBeGreaterThanOrEqual(1000 - admitted);
    // 481 for a dialog we do not know is stateless (RFC 3261 §8.2.7): no transaction at all.
    expect(peak).toBe(0);
  });

  it('1,000 INVITEs that never ACK leave no pile of transactions and draw no retransmitted refusals', async () => {
    const before = await limited();
    const started = Date.now();
    const { result: sipp, peak } = await peakTransactions(
      runSipp({
        scenario: await bundledScenario('uac-invite-flood'),
        remote: gw.udp,
        service: 'sales',
        rate: 500,
        calls: 1000,
        concurrency: 1000,
        callDurationMs: 4000,
        keys: { token: 'not.a.token' },
        traceMessages: true,
        extraArgs: ['-nd'],
        timeoutMs: 30_000,
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    const responses = received(sipp.messages);
    const refusedByLimit = responses.filter((r) => r.status === 503);
    // Every 503 is the limiter's, sent once per INVITE: no Call-ID got it twice.
    const perCall = new Map<string, number>();
    for (const r of refusedByLimit) {
      expect(r.header('reason')).toContain('rate_limited');
      const id = r.header('call-id') ?? '';
      perCall.set(id, (perCall.get(id) ?? 0) + 1);
    }
    expect([...perCall.values()].filter((n) => n > 1)).toEqual([]);
    // Nor a 100 Trying: a limited INVITE got no transaction.
    const trying = new Set(
      responses.filter((r) => r.status === 100).map((r) => r.header('call-id')),
    );
    for (const id of perCall.keys()) expect(trying.has(id)).toBe(false);
    // The source's budget passes (burst + rate × time); the rest is refused without state.
    const admitted = RATE.burst + RATE.perSecond * seconds;
    expect(trying.size).toBeLessThanOrEqual(admitted);
    expect(peak).toBeLessThanOrEqual(admitted);
    expect((await limited()) - before).toBeGreaterThanOrEqual(1000 - admitted);
  });
});
