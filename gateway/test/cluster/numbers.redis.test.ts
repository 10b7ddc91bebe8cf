/**
 * Caller-ID numbers agreed between two gateways on one real redis-server
 * (issue 16 item 1), a baresip phone as the agent and sipp as visitors: each
 * gateway has its own copy of a two-number pool. A session calling through A
 * and another through B get different numbers (alone, each gateway would have
 * given its first free number to both); the first session calling again
 * through B keeps its number; a third session, while both numbers are held,
 * gets the fallback. The agent's phone shows each number in the INVITE's From.
 */
import { bundledScenario, runSipp, type BaresipAgent } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../harness.js';
import { twoGatewaysOnRedis, type TwoGateways } from './two-gateways.js';

let cluster: TwoGateways;
let a: TestGateway;
let b: TestGateway;
let phone: BaresipAgent;

beforeAll(async () => {
  cluster = await twoGatewaysOnRedis({
    keyPrefix: 'numbers-test:',
    gateway: {
      agents: [{ id: 'agent1', maxCalls: 4 }],
      config: {
        numbers: {
          ranges: [{ from: '+15550100', to: '+15550101' }],
          fallback: '+15550199',
          graceSeconds: 600,
        },
      },
    },
    // B rings the phone registered through A once it has heard of it (Redis pub/sub).
    bHearsPhone: true,
  });
  ({ a, b, phone } = cluster);
});
afterAll(async () => {
  await cluster?.close();
});

/** One call of `subject`'s web session through `gw`; the number the agent's phone was shown. */
async function call(gw: TestGateway, subject: string): Promise<string> {
  const mark = phone.sipMessages().length;
  const result = await runSipp({
    scenario: await bundledScenario('uac-bearer-pcmu'),
    remote: gw.udp,
    service: 'sales',
    calls: 1,
    callDurationMs: 300,
    injection: { rows: [[await gw.token({ subject })]] },
    timeoutMs: 30_000,
  });
  expect(result.stats.successful, result.output).toBe(1);
  const invite = await phone.waitForRequest('INVITE', undefined, 5000, { since: mark });
  expect(invite.header('x-parley-session')).toBe(subject);
  return /sip:(\+\d+)@/.exec(invite.header('from') ?? '')?.[1] ?? '';
}

describe('caller-ID numbers shared through Redis', () => {
  it('never gives one number to two sessions on two gateways; a session keeps its own on either', async () => {
    const first = await call(a, 'sess-one');
    const second = await call(b, 'sess-two');
    expect(first).toMatch(/^\+1555010[01]$/);
    expect(second).toMatch(/^\+1555010[01]$/);
    expect(second).not.toBe(first);
    expect(await call(b, 'sess-one')).toBe(first);
    expect(await call(a, 'sess-two')).toBe(second);
    // Both held (grace period): a third session gets the fallback on either gateway.
    expect(await call(a, 'sess-three')).toBe('+15550199');
  });
});
