/**
 * A gateway for benchmarks, run as its own process the way production runs it
 * (gateway/package.json's `start` script: `node --conditions=parley-dist
 * gateway/dist/main.js --config FILE`, built first when stale; `runtime: 'tsx'`
 * runs the sources instead; optionally pinned with `taskset`): keys generated at run time, a config file in a temp dir,
 * real SQLite storage there, static agents (fixed contacts, no REGISTER) all
 * pointing at one SIP peer, SIP over UDP (agents) and WebSocket (browsers),
 * and a token issuer for its tenant.
 */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { ensureGatewayBuild, gatewayEntryArgs, type GatewayRuntime } from './gateway-build.js';
import {
  createCallTokenIssuer,
  generateEncryptionKeyPair,
  generateSigningKeyPair,
} from '@parley/shared/tokens';
import {
  type ManagedProcess,
  type PortAllocator,
  type PortBlock,
  spawnManaged,
} from '@parley/testkit';
import type { GatewayCallRecord } from './webrtc/gateway-side.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TENANT = 'bench';
export const QUEUE = 'sales';
export const DOMAIN = 'parley.bench';
/** The page origin the tokens name and browser-like clients send in the WebSocket handshake. */
export const ORIGIN = 'https://shop.bench.test';
const GATEWAY_ID = 'gw-bench';
export const API_KEY = 'bench-api-key-0123456789';

export interface BenchGatewayOptions {
  readonly dir: string;
  readonly ports: PortAllocator;
  /** `host:port` of the SIP peer every agent's contact points at. */
  readonly agentContact: string;
  readonly agents: number;
  readonly maxCallsPerAgent: number;
  /** Ports for the media relay (2 RTP/RTCP pairs per call); the caller releases them. */
  readonly media: PortBlock;
  /** Ports for browsers' WebRTC (relay: one ICE socket per call; mediasoup: one per worker); the caller releases them. */
  readonly webrtc?: PortBlock;
  /** CPU for `taskset -c`; undefined: not pinned. */
  readonly cpu?: number;
  /** The media engine (`media.engine`); default the config's (auto). */
  readonly engine?: 'mediasoup' | 'relay';
  readonly logLevel?: 'warn' | 'info' | 'debug';
  /** Extra node flags, e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
  /** Open the inspector on a loopback port, for {@link BenchGateway.liveHeapBytes}. */
  readonly inspect?: boolean;
  /** Every line the gateway prints. */
  readonly onLine?: (line: string) => void;
  /** Run the gateway of another checkout (e.g. main, for a before/after figure). Default this one. */
  readonly repoRoot?: string;
  /**
   * The compiled build (default, built when stale) or the sources through tsx
   * (the default for a checkout from before the build, without scripts/build-gateway.sh).
   */
  readonly runtime?: GatewayRuntime;
  /** Added to the gateway's environment. */
  readonly env?: Record<string, string>;
  /** Settings merged into `sip` (e.g. the default per-source rate limit instead of the bench's). */
  readonly sipExtra?: Record<string, unknown>;
  /** Listen for SIP over TCP as well (on a port of its own). */
  readonly tcp?: boolean;
  /** Top-level config sections added as they are (e.g. `flows`, `trunks`). */
  readonly configExtra?: Record<string, unknown>;
  /** Run the gateway (and the decoder processes it starts) at this priority (`nice -n`; negative needs root). */
  readonly nice?: number;
  /** Settings merged into the queue's (e.g. `voicemail`, `maxAttempts`). */
  readonly queueExtra?: Record<string, unknown>;
}

export interface IssuedBatch {
  readonly tokens: string[];
  /** Token i is for web session `bench-visitor-<firstSession + i>`. */
  readonly firstSession: number;
}

export type { GatewayCallRecord };

export interface BenchGateway {
  readonly process: ManagedProcess;
  readonly pid: number;
  /** `127.0.0.1:port` of the UDP listener. */
  readonly sip: string;
  /** `127.0.0.1:port` of the TCP listener, when started with `tcp`. */
  readonly sipTcp?: string;
  readonly httpUrl: string;
  /** SIP over WebSocket. */
  readonly wsUrl: string;
  readonly configFile: string;
  /** Every UDP port the gateway may use (SIP, plain RTP, WebRTC), as ranges. */
  readonly udpPorts: readonly (readonly [number, number])[];
  /** The inspector's port on 127.0.0.1 (with `inspect`). */
  readonly inspectPort?: number;
  /** GET on the gateway's HTTP API (/v1 with the bench API key). */
  get<T>(path: string): Promise<T>;
  /** `count` fresh tokens for queue:sales, each with its own jti and web session. */
  issueTokens(count: number): Promise<IssuedBatch>;
  /** The most recent call records (at most 500). */
  calls(limit: number): Promise<GatewayCallRecord[]>;
  /** Prometheus gauges without labels, by name, from /metrics. */
  gauges(): Promise<Record<string, number>>;
  /**
   * The V8 heap in use after a full GC (forced through the inspector, so unlike a
   * heap snapshot it costs no memory): what the gateway really holds. Needs `inspect`.
   */
  liveHeapBytes(): Promise<number>;
  stop(): Promise<void>;
}

export async function startBenchGateway(options: BenchGatewayOptions): Promise<BenchGateway> {
  const blocks: PortBlock[] = [];
  const release = (): void => blocks.forEach((b) => b.release());
  try {
    const [tenantKeys, gatewayKeys] = await Promise.all([
      generateSigningKeyPair('ES256'),
      generateEncryptionKeyPair(),
    ]);
    const take = async (protocol: 'udp' | 'tcp'): Promise<PortBlock> => {
      const block = await options.ports.allocate(1, { protocols: [protocol], even: false });
      blocks.push(block);
      return block;
    };
    const sipBlock = await take('udp');
    const tcpBlock = options.tcp ? await take('tcp') : undefined;
    const httpBlock = await take('tcp');
    const inspectBlock = options.inspect ? await take('tcp') : undefined;
    const { media, webrtc } = options;
    const config = {
      gatewayId: GATEWAY_ID,
      // Every visitor's WebSocket comes from 127.0.0.1: the per-source cap (200) would refuse the 201st.
      http: { host: '127.0.0.1', port: httpBlock.base, maxConnectionsPerSource: 100_000 },
      log: { level: options.logLevel ?? 'warn' },
      tokens: { encryptionKeys: [gatewayKeys.privateJwk] },
      tenants: {
        [TENANT]: { name: 'Bench Shop', jwks: [tenantKeys.publicJwk], maxConcurrentCalls: 100_000 },
      },
      sip: {
        domain: DOMAIN,
        listen: [
          { protocol: 'udp', host: '127.0.0.1', port: sipBlock.base },
          ...(tcpBlock ? [{ protocol: 'tcp', host: '127.0.0.1', port: tcpBlock.base }] : []),
        ],
        // Every visitor comes from 127.0.0.1: the per-source limit would refuse a ramp.
        rateLimit: { perSecond: 100_000, burst: 100_000 },
        ...options.sipExtra,
      },
      queues: {
        [QUEUE]: { tenant: TENANT, ringTimeoutSeconds: 20, maxAttempts: 3, ...options.queueExtra },
      },
      agents: Array.from({ length: options.agents }, (_, i) => ({
        id: `a${i}`,
        tenant: TENANT,
        password: `bench-secret-${i}`,
        queues: [QUEUE],
        maxCalls: options.maxCallsPerAgent,
        contact: `sip:a${i}@${options.agentContact}`,
      })),
      // One number per web session and every visitor a new session: a pool that never runs out.
      numbers: { ranges: [{ from: '+15551000000', to: '+15551099999' }], fallback: '+15551199999' },
      media: {
        address: '127.0.0.1',
        portMin: media.base,
        portMax: media.base + media.size - 1,
        ...(webrtc
          ? { webrtcPortMin: webrtc.base, webrtcPortMax: webrtc.base + webrtc.size - 1 }
          : {}),
        inactivityTimeoutSeconds: 60,
        ...(options.engine ? { engine: options.engine } : {}),
      },
      api: { keys: [{ id: 'bench', key: API_KEY }] },
      storage: {
        path: join(options.dir, 'parley.sqlite'),
        recordingsDir: join(options.dir, 'recordings'),
      },
      ...options.configExtra,
    };
    const configFile = join(options.dir, 'gateway.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2));

    const root = options.repoRoot ?? REPO_ROOT;
    const runtime =
      options.runtime ?? (existsSync(join(root, 'scripts', 'build-gateway.sh')) ? 'dist' : 'tsx');
    if (runtime === 'dist') await ensureGatewayBuild(root, options.onLine);
    const node = [
      'node',
      ...(options.nodeArgs ?? []),
      ...(inspectBlock ? [`--inspect=127.0.0.1:${inspectBlock.base}`] : []),
      ...gatewayEntryArgs(runtime, root),
      '--config',
      configFile,
    ];
    const niced = options.nice === undefined ? node : ['nice', '-n', String(options.nice), ...node];
    const [command = 'node', ...args] =
      options.cpu === undefined ? niced : ['taskset', '-c', String(options.cpu), ...niced];
    const child = spawnManaged({
      command,
      args,
      cwd: root,
      ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
      name: 'gateway',
      maxLines: 400,
      onOutput: (chunk: string) => {
        for (const line of chunk.split('\n')) {
          // The inspector's own banner is not the gateway speaking.
          if (!line.trim() || /^(Debugger listening on|For help, see:)/.test(line)) continue;
          options.onLine?.(line);
        }
      },
    });
    const httpUrl = `http://127.0.0.1:${httpBlock.base}`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (!child.running)
        throw new Error(`the gateway exited while starting:\n${child.describe(40)}`);
      if (Date.now() > deadline) {
        await child.stop();
        throw new Error(`the gateway did not answer /healthz within 30 s:\n${child.describe(40)}`);
      }
      if (
        await fetch(`${httpUrl}/healthz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (child.pid === undefined) throw new Error('the gateway has no pid');

    const issuer = await createCallTokenIssuer({
      issuer: TENANT,
      audience: GATEWAY_ID,
      signingKey: tenantKeys.privateJwk,
      encryptionKey: gatewayKeys.publicJwk,
    });
    let session = 0;
    const get = async <T>(path: string): Promise<T> => {
      const res = await fetch(`${httpUrl}${path}`, {
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
      return (await res.json()) as T;
    };
    const gauges = async (): Promise<Record<string, number>> => {
      const text = await (await fetch(`${httpUrl}/metrics`)).text();
      const out: Record<string, number> = {};
      for (const line of text.split('\n')) {
        const m = /^(parley_[a-z_]+)\s+([0-9.e+-]+)$/.exec(line);
        if (m?.[1] && m[2]) out[m[1]] = Number(m[2]);
      }
      return out;
    };
    return {
      process: child,
      pid: child.pid,
      sip: `127.0.0.1:${sipBlock.base}`,
      ...(tcpBlock ? { sipTcp: `127.0.0.1:${tcpBlock.base}` } : {}),
      httpUrl,
      wsUrl: `${httpUrl.replace('http', 'ws')}/sip`,
      configFile,
      ...(inspectBlock ? { inspectPort: inspectBlock.base } : {}),
      udpPorts: [
        [sipBlock.base, sipBlock.base],
        [media.base, media.base + media.size - 1],
        ...(webrtc ? [[webrtc.base, webrtc.base + webrtc.size - 1] as const] : []),
      ],
      get,
      async issueTokens(count) {
        const firstSession = session + 1;
        const tokens: string[] = [];
        for (let i = 0; i < count; i += 1) {
          session += 1;
          const issued = await issuer.issue({
            subject: `bench-visitor-${session}`,
            scope: `queue:${QUEUE}`,
            origin: ORIGIN,
            privateClaims: { customerId: `C-${session}`, name: 'Ada Lovelace', tier: 'gold' },
            // The most the issuer allows: a step's tokens are issued just before it.
            ttlSeconds: 300,
          });
          tokens.push(issued.token);
        }
        return { tokens, firstSession };
      },
      async calls(limit) {
        return (await get<{ calls: GatewayCallRecord[] }>(`/v1/calls?limit=${limit}`)).calls;
      },
      gauges,
      async liveHeapBytes() {
        if (!inspectBlock) throw new Error('the gateway was started without inspect');
        await inspectorCollectGarbage(inspectBlock.base);
        const value = (await gauges())['parley_nodejs_heap_size_used_bytes'];
        if (value === undefined)
          throw new Error('no parley_nodejs_heap_size_used_bytes in /metrics');
        return value;
      },
      async stop() {
        await child.stop({ graceMs: 5000 });
        release();
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}

/** Node flags that make a gateway write a heap snapshot into `dir` on SIGUSR2. */
export function heapSnapshotArgs(dir: string): string[] {
  return ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`];
}

/**
 * Asks a gateway started with {@link heapSnapshotArgs} for a heap snapshot and waits
 * until it is written (its size stops changing). V8 runs a full GC first, so the heap
 * read afterwards is what the gateway really holds, not garbage a lazy GC left.
 * Returns the file, or undefined when none was written within `timeoutMs`.
 */
export async function takeHeapSnapshot(
  gw: Pick<BenchGateway, 'pid'>,
  dir: string,
  timeoutMs = 120_000,
): Promise<string | undefined> {
  mkdirSync(dir, { recursive: true });
  const before = new Set(readdirSync(dir));
  process.kill(gw.pid, 'SIGUSR2');
  const fresh = () => readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
  const size = () => {
    const file = fresh();
    return file ? statSync(join(dir, file)).size : 0;
  };
  const deadline = performance.now() + timeoutMs;
  let last = -1;
  while (performance.now() < deadline && (size() === 0 || size() !== last)) {
    last = size();
    await new Promise((r) => setTimeout(r, 2000));
  }
  const file = fresh();
  return file && size() > 0 ? join(dir, file) : undefined;
}

/** `HeapProfiler.collectGarbage` over the DevTools protocol of the process inspected at `port`. */
async function inspectorCollectGarbage(port: number): Promise<void> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
    webSocketDebuggerUrl?: string;
  }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on port ${port}`);
  const ws = new WebSocket(url);
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('no answer to collectGarbage in 30 s')),
        30_000,
      );
      ws.on('message', (data: Buffer) => {
        const reply = JSON.parse(data.toString('utf8')) as { id?: number; error?: unknown };
        if (reply.id !== 1) return;
        clearTimeout(timer);
        if (reply.error) reject(new Error(`collectGarbage: ${JSON.stringify(reply.error)}`));
        else resolve();
      });
      ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
    });
  } finally {
    ws.close();
  }
}
