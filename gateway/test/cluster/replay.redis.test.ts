/**
 * Two gateways of one cluster share Redis: a call token used on one is
 * refused on the other (issue 16: no replayed token is accepted anywhere).
 */
import { startRedis, type RedisServer } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SipResponse } from '../../src/sip/message/index.js';
import { startTestGateway, testKeys, type TestGateway } from '../harness.js';
import { RawSipClient, inviteText } from '../raw-sip.js';

let redis: RedisServer;
let a: TestGateway;
let b: TestGateway;
let client: RawSipClient;

beforeAll(async () => {
  redis = await startRedis();
  const keys = await testKeys();
  const shared = (instanceId: string) => ({
    shared: { instanceId, redis: { url: redis.url, keyPrefix: 'replay-test:' } },
  });
  a = await startTestGateway({ keys, config: shared('gw-a') });
  b = await startTestGateway({ keys, config: shared('gw-b') });
  client = await RawSipClient.open();
});
afterAll(async () => {
  client?.close();
  await a?.close();
  await b?.close();
  await redis?.stop();
});

/** The final answer's status and Reason to an INVITE carrying the token (no SDP). */
async function invite(
  gw: TestGateway,
  token: string,
  sameCall?: string,
): Promise<[number, string]> {
  const text = inviteText({
    to: 'sales@parley.test',
    port: client.port,
    headers: [`Authorization: Bearer ${token}`],
    ...(sameCall !== undefined ? { callId: sameCall } : {}),
  });
  const callId = /Call-ID: (.*)\r/.exec(text)![1]!;
  client.send(gw.udp, text);
  const final = (await client.waitFor(
    (m) => m.type === 'response' && m.status >= 200 && m.callId === callId,
    10_000,
  )) as SipResponse;
  return [final.status, final.headers.get('reason') ?? ''];
}

describe('the token replay store in Redis', () => {
  it('refuses on gateway B a token used on gateway A', async () => {
    const token = await a.token();
    const [first, firstReason] = await invite(a, token);
    // Past the token: refused later in the pipeline (this INVITE has no SDP offer).
    expect(firstReason).not.toContain('replayed');
    expect(first).not.toBe(403);
    const [second, reason] = await invite(b, token);
    expect(second).toBe(403);
    expect(reason).toContain('text="replayed"');
    // Stored once, in the cluster's keyspace (tenant and jti, URI-encoded).
    const keys = (await redis.cli('--scan', '--pattern', 'replay-test:jti:*')).trim().split('\n');
    expect(keys).toEqual([expect.stringMatching(/^replay-test:jti:acme%0A[0-9a-f-]+$/)]);
    // Its value is the Call-ID it was spent on.
    expect((await redis.cli('GET', keys[0]!)).trim()).toMatch(/^\d+ u:raw-call-/);
  });

  it('takes on B the same INVITE failed over from A (new branch), and no other use', async () => {
    // A SIP edge (Kamailio's failover after its timer) sends the same INVITE to another
    // gateway on a new branch: the token was spent on that call, not on another one.
    const token = await a.token();
    const text = inviteText({
      to: 'sales@parley.test',
      port: client.port,
      headers: [`Authorization: Bearer ${token}`],
    });
    const callId = /Call-ID: (.*)\r/.exec(text)![1]!;
    const final = async (gw: TestGateway, branch: string, fromTag?: string) => {
      let message = text.replace(/branch=[^;\r]+/, `branch=${branch}`);
      if (fromTag !== undefined) message = message.replace(/;tag=raw\d+/, `;tag=${fromTag}`);
      client.send(gw.udp, message);
      const response = (await client.waitFor(
        (m) =>
          m.type === 'response' &&
          m.status >= 200 &&
          m.callId === callId &&
          m.via.branch === branch,
        10_000,
      )) as SipResponse;
      return [response.status, response.headers.get('reason') ?? ''] as const;
    };
    const [first, firstReason] = await final(a, 'z9hG4bK-first');
    expect(first).not.toBe(403);
    expect(firstReason).not.toContain('replayed');
    const [again, againReason] = await final(b, 'z9hG4bK-failover');
    expect(againReason).not.toContain('replayed');
    expect(again).toBe(first);
    // The same Call-ID in a new dialog (another From tag) is another use.
    const [other, reason] = await final(b, 'z9hG4bK-other', 'another');
    expect(other).toBe(403);
    expect(reason).toContain('text="replayed"');
    // A copy on a new branch to the same gateway while the first transaction lives is a
    // merged request (RFC 3261 §8.2.2.2): 482, not a second call on the token.
    const [merged] = await final(a, 'z9hG4bK-copy');
    expect(merged).toBe(482);
  });

  it('says Redis is up in /healthz', async () => {
    const health = (await (await fetch(`${a.gateway.httpUrl}/healthz`)).json()) as {
      redis: string;
    };
    expect(health.redis).toBe('up');
  });

  it('keeps refusing replays on the same gateway while Redis is down, and says so', async () => {
    await redis.kill();
    const token = await a.token();
    const [first, firstReason] = await invite(a, token);
    expect(firstReason).not.toContain('replayed');
    expect(first).not.toBe(403);
    const [again, reason] = await invite(a, token);
    expect(again).toBe(403);
    expect(reason).toContain('text="replayed"');
    const health = (await (await fetch(`${a.gateway.httpUrl}/healthz`)).json()) as {
      ok: boolean;
      redis: string;
    };
    expect(health).toMatchObject({ ok: true, redis: 'down' });
    const metrics = await (await fetch(`${a.gateway.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/parley_shared_redis_up 0/);
    expect(metrics).toMatch(/parley_shared_redis_errors_total\{op="replay"\} [1-9]/);
    await redis.restart();
  });
});
