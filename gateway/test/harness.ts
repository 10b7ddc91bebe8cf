/**
 * A real gateway in the test process, with keys made at test time, listening
 * on free ports of 127.0.0.1, and a token issuer for its tenant.
 */
import {
  createCallTokenIssuer,
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  type CallTokenIssuer,
  type IssueParams,
  type PrivateClaims,
} from '@parley/shared/tokens';
import {
  PortAllocator,
  startBaresipAgent,
  type BaresipAgent,
  type BaresipAgentOptions,
} from '@parley/testkit';
import { loadConfig, type ConfigInput } from '../src/config/index.js';
import { startGateway, type Gateway } from '../src/gateway.js';
import { createLogger } from '../src/observability/index.js';
import type { PinHasher } from '../src/gated/index.js';
import type { MediasoupEngine } from '../src/media/mediasoup/engine.js';
import { LogRing } from './log-ring.js';

export const TENANT = 'acme';
export const ORIGIN = 'https://shop.acme.test';
export const API_KEY = 'test-api-key-0123456789';

export interface TestGateway {
  readonly gateway: Gateway;
  /** Issues tokens for the tenant (what a company's server holds). */
  readonly issuer: CallTokenIssuer;
  readonly udp: string;
  readonly tcp: string;
  /** A fresh call token for the tenant (queue:sales by default). */
  token(
    params?: Partial<IssueParams> & { privateClaims?: PrivateClaims; issuedSecondsAgo?: number },
  ): Promise<string>;
  /** GET on the /v1 API with the test API key. */
  api<T = unknown>(path: string): Promise<{ status: number; body: T }>;
  /** Any method on the /v1 API with the test API key and a JSON body. */
  apiRequest<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
  /**
   * Resolves once no call is in progress (`CallManager.idle()`, no polling);
   * fails with the number of calls still up after `timeoutMs`.
   */
  callsEnded(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  /**
   * The level of the log lines kept in memory for a failing test's report
   * (`log-ring.ts`; default `info`). PARLEY_TEST_LOG, when set, prints the log instead.
   */
  readonly keptLog?: 'debug' | 'info';
  readonly agents?: {
    id: string;
    /** Default: the test tenant. */
    tenant?: string;
    password?: string;
    queues?: string[];
    maxCalls?: number;
    tier?: string;
    /** A fixed contact (a PBX): reachable without registering. */
    contact?: string;
    digestAlgorithms?: ('SHA-256' | 'MD5')[];
    /** The agent's own voicemail box (`agents[].voicemail`). */
    voicemail?: Record<string, unknown>;
  }[];
  /** Extra settings of the `sales` queue (strategy, bands, wrap-up…). */
  readonly queueExtra?: Record<string, unknown>;
  /** Extra settings of the tenant (routing…). */
  readonly tenantExtra?: Record<string, unknown>;
  /** More tenants (no signing keys: they get no calls), each with one queue of its own name. */
  readonly otherTenants?: string[];
  /** Extra SIP settings (registration lifetimes…), merged into the harness's own. */
  readonly sipExtra?: Record<string, unknown>;
  /** Extra media settings (TURN, ICE policy…), merged into the harness's own. */
  readonly mediaExtra?: Record<string, unknown>;
  /** Media ports reserved for the gateway (two per leg); default 64. */
  readonly mediaPortCount?: number;
  readonly ringTimeoutSeconds?: number;
  readonly maxAttempts?: number;
  readonly config?: Partial<ConfigInput>;
  readonly tenantMaxCalls?: number;
  /** scrypt parameters of gated PINs (cheap ones keep API tests fast). */
  readonly pins?: PinHasher;
  /** Keys shared by the gateways of one cluster (`testKeys()`); default: fresh ones. */
  readonly keys?: TestKeys;
}

/** The tenant's signing keys and the gateway's encryption keys. */
export interface TestKeys {
  readonly tenant: Awaited<ReturnType<typeof generateSigningKeyPair>>;
  readonly gateway: Awaited<ReturnType<typeof generateEncryptionKeyPair>>;
}

/** Keys for several gateways of one cluster: every one accepts the same tokens. */
export async function testKeys(): Promise<TestKeys> {
  const [tenant, gateway] = await Promise.all([
    generateSigningKeyPair('ES256'),
    generateEncryptionKeyPair(),
  ]);
  return { tenant, gateway };
}

const ports = new PortAllocator();

/**
 * The mediasoup routers open on the gateway's workers (none on the relay
 * engine). The calls of a worker share them and the last call's end closes
 * them, so once no call is up there are none: what the calls made is gone.
 */
export function workerRouters(gw: TestGateway): number {
  const media = gw.gateway.media;
  if (media.kind !== 'mediasoup') return 0;
  return (media as MediasoupEngine).pool.workers.reduce((n, w) => n + w.routers.count, 0);
}

/**
 * A baresip phone signed in to `gw` as one of its agents (`agent1` and the
 * harness's default password unless `options` say otherwise).
 */
export async function registeredAgent(
  gw: TestGateway,
  options: Partial<BaresipAgentOptions> = {},
): Promise<BaresipAgent> {
  const agent = await startBaresipAgent({
    user: 'agent1',
    password: 'secret',
    registrar: gw.udp,
    ...options,
  });
  await agent.registered();
  return agent;
}

export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const testLog = process.env['PARLEY_TEST_LOG'] as 'debug' | 'info' | undefined;
  const keys = options.keys ?? (await testKeys());
  const tenantKeys = keys.tenant;
  const gatewayKeys = keys.gateway;
  const media = await ports.allocate(options.mediaPortCount ?? 64, {
    protocols: ['udp'],
    even: true,
  });
  const input: ConfigInput = {
    gatewayId: 'gw-test',
    http: { host: '127.0.0.1', port: 0 },
    log: { level: testLog ?? options.keptLog ?? 'info' },
    tokens: {
      encryptionKeys: [gatewayKeys.privateJwk as Record<string, unknown> as { kty: string }],
    },
    tenants: {
      [TENANT]: {
        name: 'Acme Shop',
        jwks: [tenantKeys.publicJwk as Record<string, unknown> as { kty: string }],
        ...(options.tenantMaxCalls ? { maxConcurrentCalls: options.tenantMaxCalls } : {}),
        ...options.tenantExtra,
      },
      ...Object.fromEntries(
        (options.otherTenants ?? []).map((t) => [
          t,
          { name: t, jwks: [tenantKeys.publicJwk as Record<string, unknown> as { kty: string }] },
        ]),
      ),
    },
    sip: {
      domain: 'parley.test',
      listen: [
        { protocol: 'udp', host: '127.0.0.1', port: 0 },
        { protocol: 'tcp', host: '127.0.0.1', port: 0 },
      ],
      t1Ms: 100,
      rateLimit: { perSecond: 1000, burst: 2000 },
      // A machine running other suites lags by hundreds of ms: the lag guard
      // (sbc/overload.ts, 300 ms by default) would refuse these tests' calls 503.
      overload: { maxLagMs: 10_000 },
      ...options.sipExtra,
    },
    queues: {
      sales: {
        tenant: TENANT,
        ringTimeoutSeconds: options.ringTimeoutSeconds ?? 10,
        maxAttempts: options.maxAttempts ?? 3,
        ...options.queueExtra,
      },
      ...Object.fromEntries((options.otherTenants ?? []).map((t) => [t, { tenant: t }])),
    },
    agents: (options.agents ?? [{ id: 'agent1' }]).map((a) => ({
      id: a.id,
      tenant: a.tenant ?? TENANT,
      password: a.password ?? 'secret',
      queues: a.queues ?? ['sales'],
      ...(a.maxCalls ? { maxCalls: a.maxCalls } : {}),
      ...(a.tier ? { tier: a.tier } : {}),
      ...(a.contact ? { contact: a.contact } : {}),
      ...(a.voicemail ? { voicemail: a.voicemail } : {}),
      // baresip 1.0 fails on a SHA-256 challenge instead of skipping it.
      digestAlgorithms: a.digestAlgorithms ?? ['MD5'],
    })),
    media: {
      address: '127.0.0.1',
      portMin: media.base,
      portMax: media.base + media.size - 1,
      inactivityTimeoutSeconds: 10,
      // One worker per test gateway (tests run side by side); counters read every second.
      mediasoup: { workers: 1, statsIntervalSeconds: 1 },
      ...options.mediaExtra,
    },
    api: { keys: [{ id: 'test', key: API_KEY, privateClaims: true }] },
    storage: { path: ':memory:' },
    ...options.config,
  };
  // PARLEY_MEDIA_ENGINE picks the engine for a test run (scripts/test.sh runs e2e on each);
  // unset, the config's default (auto: mediasoup where its worker is installed).
  // PARLEY_MEDIA_EARLY_ANSWER likewise, except for a test that sets media.earlyAnswer
  // itself: it is about that setting (the early-answer test, the Opus path with it off).
  const pinsEarlyAnswer = options.mediaExtra?.['earlyAnswer'] !== undefined;
  const config = loadConfig({
    input: input as Record<string, unknown>,
    env: {
      PARLEY_MEDIA_ENGINE: process.env['PARLEY_MEDIA_ENGINE'],
      PARLEY_MEDIA_EARLY_ANSWER: pinsEarlyAnswer
        ? undefined
        : process.env['PARLEY_MEDIA_EARLY_ANSWER'],
    },
  });
  // PARLEY_TEST_LOG=debug prints the log; without it the last lines are kept for a failure's report.
  const ring = testLog ? undefined : new LogRing(String(config.gatewayId));
  const gateway = await startGateway(config, {
    logger: createLogger(config.log.level, ring),
    ...(options.pins ? { pins: options.pins } : {}),
  }).catch((error: unknown) => {
    ring?.close();
    throw error;
  });
  let skewMs = 0;
  const issuer = await createCallTokenIssuer({
    issuer: TENANT,
    audience: 'gw-test',
    signingKey: tenantKeys.privateJwk,
    encryptionKey: gatewayKeys.publicJwk,
    now: () => Date.now() - skewMs,
  });
  async function apiRequest<T>(method: string, path: string, body?: unknown) {
    const res = await fetch(`${gateway.httpUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${API_KEY}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }
  let session = 0;
  return {
    gateway,
    issuer,
    udp: gateway.sip.udp ?? '',
    tcp: gateway.sip.tcp ?? '',
    async token(params = {}) {
      session += 1;
      // The issuer is shared (the company site of e2e tests uses it): the skew lasts one token.
      skewMs = (params.issuedSecondsAgo ?? 0) * 1000;
      const issued = await issuer
        .issue({
          subject: params.subject ?? `web-session-${session}`,
          scope: params.scope ?? 'queue:sales',
          origin: params.origin ?? ORIGIN,
          privateClaims: params.privateClaims ?? {
            customerId: `C-${session}`,
            name: 'Ada Lovelace',
            tier: 'gold',
          },
          ...(params.ttlSeconds ? { ttlSeconds: params.ttlSeconds } : {}),
        })
        .finally(() => (skewMs = 0));
      return issued.token;
    },
    api: <T>(path: string) => apiRequest<T>('GET', path),
    apiRequest,
    async callsEnded(timeoutMs = 10_000) {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const left = gateway.calls.size;
          reject(new Error(`${left} call(s) still in progress after ${timeoutMs} ms`));
        }, timeoutMs);
      });
      try {
        await Promise.race([gateway.calls.idle(), bound]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await gateway.close();
      ring?.close();
      media.release();
    },
  };
}
