/**
 * Gateways as child processes (`parley-gateway --config`, as in production,
 * so SIGTERM drains and SIGKILL really kills), sharing one tenant's keys and
 * one `gatewayId` (the audience of the tenant's tokens is the cluster), each
 * with its own SIP port, media ports, SQLite file and agents, and trusting the
 * SIP edge's address. Used by the scale-out test and `scripts/cluster.sh`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createCallTokenIssuer,
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  type CallTokenIssuer,
} from '@parley/shared/tokens';
import {
  defaultPortAllocator,
  spawnGateway,
  type Kamailio,
  type ManagedProcess,
  type PortBlock,
} from './index.js';

export const CLUSTER_ID = 'gw-cluster';
export const CLUSTER_TENANT = 'acme';
export const CLUSTER_API_KEY = 'cluster-api-key-0123456789';

export interface ClusterKeys {
  readonly tenantPublic: Record<string, unknown>;
  readonly gatewayPrivate: Record<string, unknown>;
  readonly issuer: CallTokenIssuer;
}

/** Keys made now: the tenant's signing pair and the cluster's encryption pair. */
export async function clusterKeys(): Promise<ClusterKeys> {
  const [tenant, gateway] = await Promise.all([
    generateSigningKeyPair('ES256'),
    generateEncryptionKeyPair(),
  ]);
  const issuer = await createCallTokenIssuer({
    issuer: CLUSTER_TENANT,
    audience: CLUSTER_ID,
    signingKey: tenant.privateJwk,
    encryptionKey: gateway.publicJwk,
  });
  return {
    tenantPublic: tenant.publicJwk as Record<string, unknown>,
    gatewayPrivate: gateway.privateJwk as Record<string, unknown>,
    issuer,
  };
}

export interface ClusterGatewayOptions {
  readonly name: string;
  readonly keys: ClusterKeys;
  /** Agents of this gateway (they register with it; password `secret`). */
  readonly agents: readonly string[];
  /** The SIP edge's address (`sip.edge.trusted`). */
  readonly edge: string;
  readonly drainTimeoutSeconds?: number;
  /** Calls each agent takes at once (`agents[].maxCalls`; default 4). */
  readonly agentMaxCalls?: number;
  /**
   * `host:port` every agent's fixed contact points at (`sip:<id>@host:port`,
   * a sipp UAS answering for them all: benchmarks); without, agents register.
   */
  readonly agentContact?: string;
  /** UDP ports for the media relay (default 32: a test's few calls). */
  readonly mediaPorts?: number;
  readonly httpPort?: number;
  readonly logLevel?: string;
  /**
   * The SIP overload guard's event-loop lag limit (`sip.overload.maxLagMs`;
   * without, the gateway's default, 300 ms). Tests raise it: a machine running
   * other suites lags by hundreds of ms, and a lagging gateway refuses new calls
   * 503 `overloaded`, which Kamailio takes as "out of the set".
   */
  readonly maxLagMs?: number;
  /**
   * Shared stores (issue 16 item 1): the call records, sessions and agents in
   * this PostgreSQL database and the hot state in this Redis, the gateway's
   * instance id its `name`. Without them each gateway keeps its own SQLite file
   * and an agent is rung only by the gateway it registered with.
   */
  readonly shared?: {
    readonly postgresUrl: string;
    readonly redisUrl: string;
    readonly heartbeatSeconds?: number;
    readonly leaseSeconds?: number;
  };
}

export interface ClusterGateway {
  readonly name: string;
  /** `127.0.0.1:port` (UDP). */
  readonly sip: string;
  readonly httpUrl: string;
  /** The gateway's current process (a new one after `restart()`). */
  readonly process: ManagedProcess;
  api<T>(path: string): Promise<T>;
  /**
   * Starts it again on the same ports, config and files once its process has
   * exited (after a SIGTERM's drain, or a SIGKILL): a rolling restart's step.
   */
  restart(): Promise<void>;
  /** Stops it (SIGTERM, which drains) and frees its ports and files. */
  stop(): Promise<void>;
}

export async function startClusterGateway(options: ClusterGatewayOptions): Promise<ClusterGateway> {
  const ports = defaultPortAllocator();
  const sipPort: PortBlock = await ports.allocate(1, { protocols: ['udp'] });
  const media: PortBlock = await ports.allocate(options.mediaPorts ?? 32, {
    protocols: ['udp'],
    even: true,
  });
  const dir = mkdtempSync(join(tmpdir(), `parley-${options.name}-`));
  const configPath = join(dir, 'parley.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      gatewayId: CLUSTER_ID,
      drainTimeoutSeconds: options.drainTimeoutSeconds ?? 30,
      http: { host: '127.0.0.1', port: options.httpPort ?? 0 },
      tokens: { encryptionKeys: [options.keys.gatewayPrivate] },
      tenants: { [CLUSTER_TENANT]: { name: 'Acme Shop', jwks: [options.keys.tenantPublic] } },
      sip: {
        domain: 'parley.test',
        listen: [{ protocol: 'udp', host: '127.0.0.1', port: sipPort.base }],
        t1Ms: 100,
        edge: { trusted: [options.edge] },
        rateLimit: { perSecond: 1000, burst: 2000 },
        ...(options.maxLagMs !== undefined ? { overload: { maxLagMs: options.maxLagMs } } : {}),
      },
      queues: { sales: { tenant: CLUSTER_TENANT, ringTimeoutSeconds: 10 } },
      // baresip 1.0 fails on a SHA-256 challenge instead of skipping it.
      agents: options.agents.map((id) => ({
        id,
        tenant: CLUSTER_TENANT,
        password: 'secret',
        queues: ['sales'],
        maxCalls: options.agentMaxCalls ?? 4,
        digestAlgorithms: ['MD5'],
        ...(options.agentContact ? { contact: `sip:${id}@${options.agentContact}` } : {}),
      })),
      media: {
        address: '127.0.0.1',
        portMin: media.base,
        portMax: media.base + media.size - 1,
        inactivityTimeoutSeconds: 10,
      },
      api: { keys: [{ id: 'cluster', key: CLUSTER_API_KEY }] },
      storage: {
        path: join(dir, 'parley.sqlite'),
        ...(options.shared && { kind: 'postgres', postgres: { url: options.shared.postgresUrl } }),
      },
      ...(options.shared && {
        shared: {
          instanceId: options.name,
          redis: { url: options.shared.redisUrl },
          heartbeatSeconds: options.shared.heartbeatSeconds ?? 2,
          leaseSeconds: options.shared.leaseSeconds ?? 10,
        },
      }),
    }),
  );
  const cleanUp = () => {
    sipPort.release();
    media.release();
    rmSync(dir, { recursive: true, force: true });
  };
  const spawn = () =>
    spawnGateway({
      configPath,
      env: { PARLEY_LOG_LEVEL: options.logLevel ?? 'info' },
      name: options.name,
    });
  let { process: child, httpUrl } = await spawn().catch((error: unknown) => {
    cleanUp();
    throw error;
  });
  return {
    name: options.name,
    sip: `127.0.0.1:${sipPort.base}`,
    get httpUrl() {
      return httpUrl;
    },
    get process() {
      return child;
    },
    async restart() {
      await child.exited;
      ({ process: child, httpUrl } = await spawn());
    },
    async api<T>(path: string): Promise<T> {
      const res = await fetch(`${httpUrl}${path}`, {
        headers: { authorization: `Bearer ${CLUSTER_API_KEY}` },
      });
      return (await res.json()) as T;
    },
    async stop() {
      // Drain time is the config's; a stop in a test's clean-up must not wait it.
      await child.stop({ graceMs: 5000 });
      cleanUp();
    },
  };
}

/** Call tokens for `queue:sales`, one new web session each (`web-session-<n>`), as sipp injection rows. */
export class SessionTokens {
  readonly #keys: ClusterKeys;
  #count = 0;

  constructor(keys: ClusterKeys) {
    this.#keys = keys;
  }

  /** The subject of the last token made. */
  get lastSubject(): string {
    return `web-session-${this.#count}`;
  }

  async rows(n: number): Promise<string[][]> {
    const rows: string[][] = [];
    for (let i = 0; i < n; i += 1) {
      this.#count += 1;
      const { token } = await this.#keys.issuer.issue({
        subject: this.lastSubject,
        scope: 'queue:sales',
        origin: 'https://shop.acme.test',
      });
      rows.push([token]);
    }
    return rows;
  }
}

/**
 * Polls Kamailio's dispatcher until `gw` has `state` (the probe's own pace, no
 * fixed sleep); resolves with how long it took.
 */
export async function dispatcherSays(
  kamailio: Kamailio,
  gw: ClusterGateway,
  state: 'active' | 'inactive',
  timeoutMs = 20_000,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    const states = await kamailio.gateways();
    if (states[gw.sip] === state) return Date.now() - started;
    if (Date.now() - started > timeoutMs)
      throw new Error(`dispatcher never said ${gw.name} ${state}: ${JSON.stringify(states)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The gateway's calls in progress (its /healthz). */
export async function callsInProgress(gw: ClusterGateway): Promise<number> {
  const res = await fetch(`${gw.httpUrl}/healthz`);
  return ((await res.json()) as { calls: number }).calls;
}
