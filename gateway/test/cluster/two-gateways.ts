/**
 * Two test gateways (A and B) sharing one redis-server, and a baresip agent
 * registered with A: the set-up of the cluster tests that need no PostgreSQL.
 */
import {
  bundledScenario,
  runSipp,
  startBaresipAgent,
  startRedis,
  stopAll,
  type BaresipAgent,
  type BaresipAgentOptions,
  type RedisServer,
} from '@parley/testkit';
import {
  startTestGateway,
  testKeys,
  type TestGateway,
  type TestGatewayOptions,
} from '../harness.js';

export interface TwoGateways {
  readonly redis: RedisServer;
  readonly a: TestGateway;
  readonly b: TestGateway;
  /** `agent1` (password `secret`), registered with A over UDP. */
  readonly phone: BaresipAgent;
  /** Another gateway of the same cluster and options, started now (closed with the rest). */
  startAnother(instanceId: string): Promise<TestGateway>;
  close(): Promise<void>;
}

export async function twoGatewaysOnRedis(o: {
  /** Redis key prefix of this test file. */
  readonly keyPrefix: string;
  /** Options of both gateways (their `config` gets `media.address` and `shared`). */
  readonly gateway: Omit<TestGatewayOptions, 'keys'>;
  readonly phone?: Partial<BaresipAgentOptions>;
  /** Resolve only once B knows the phone registered with A (Redis pub/sub). */
  readonly bHearsPhone?: boolean;
}): Promise<TwoGateways> {
  const redis = await startRedis();
  const keys = await testKeys();
  const start = (instanceId: string) =>
    startTestGateway({
      ...o.gateway,
      keys,
      config: {
        media: { address: '127.0.0.1' },
        ...o.gateway.config,
        shared: { instanceId, redis: { url: redis.url, keyPrefix: o.keyPrefix } },
      },
    });
  const a = await start('gw-a');
  const b = await start('gw-b');
  const others: TestGateway[] = [];
  const phone = await startBaresipAgent({
    user: 'agent1',
    password: 'secret',
    registrar: a.udp,
    transport: 'udp',
    ...o.phone,
  });
  await phone.registered();
  if (o.bHearsPhone && !b.gateway.agents.get('agent1')?.registered)
    await new Promise<void>((resolve) => {
      const on = () => {
        if (!b.gateway.agents.get('agent1')?.registered) return;
        b.gateway.agents.off('change', on);
        resolve();
      };
      b.gateway.agents.on('change', on);
    });
  return {
    redis,
    a,
    b,
    phone,
    async startAnother(instanceId) {
      const gateway = await start(instanceId);
      others.push(gateway);
      return gateway;
    },
    async close() {
      await phone.stop();
      for (const other of others) await other.close();
      await a.close();
      await b.close();
      await redis.stop();
      await stopAll();
    },
  };
}

/** One sipp visitor's call to the `sales` queue through `gw`, with a fresh token for `subject`. */
export async function visitorCall(gw: TestGateway, subject: string, durationMs = 1000) {
  return runSipp({
    scenario: await bundledScenario('uac-bearer-pcmu'),
    remote: gw.udp,
    service: 'sales',
    calls: 1,
    callDurationMs: durationMs,
    injection: { rows: [[await gw.token({ subject })]] },
    timeoutMs: 30_000,
    recvTimeoutMs: 20_000,
  });
}
