/**
 * The gateway as production runs it, for the concurrency benchmark:
 * `taskset -c <cpu> node --import tsx gateway/src/main.ts --config FILE`,
 * with keys made at run time (like gateway/test/harness.ts), SIP over UDP to
 * the agents, SIP over WebSocket for the visitors, static agents whose
 * contacts all point at one SIP peer (a sipp UAS), log level warn, SQLite in
 * a temp dir. Call tokens come from a child process (issue-tokens.ts).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '@parley/shared/tokens';
import { type ManagedProcess, type PortAllocator, type PortBlock, spawnManaged } from '@parley/testkit';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TENANT = 'bench';
const GATEWAY_ID = 'gw-webrtc-bench';
export const QUEUE = 'sales';
export const DOMAIN = 'parley.bench';
/** The page origin the tokens name and the load clients send in the WebSocket handshake. */
export const ORIGIN = 'https://shop.bench.test';
const API_KEY = 'webrtc-bench-api-key-0123456789';

/** The parts of a call record (GET /v1/calls) the benchmark reads; times are ISO strings. */
export interface GatewayCallRecord {
  readonly visitorCallId: string;
  readonly state: string;
  readonly outcome: string | null;
  readonly reason: string | null;
  readonly sipStatus: number | null;
  readonly createdAt: string;
  readonly ringingAt: string | null;
  readonly answeredAt: string | null;
  readonly endedAt: string | null;
  /** The relay's counters per leg at the end of the call. */
  readonly media: { readonly visitor?: { packetsIn?: number; packetsOut?: number }; readonly agent?: { packetsIn?: number; packetsOut?: number } } | null;
  readonly attempts: readonly { agentId: string; startedAt: string; endedAt: string | null; status?: number; reason?: string }[];
}

export interface PinnedGatewayOptions {
  readonly dir: string;
  readonly ports: PortAllocator;
  /** `host:port` every agent's contact points at. */
  readonly agentContact: string;
  readonly agents: number;
  readonly maxCallsPerAgent: number;
  /** Calls the port ranges must hold. */
  readonly maxCalls: number;
  /** CPU for `taskset -c`; undefined: not pinned. */
  readonly cpu?: number;
  /** Extra node flags, e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
  /** Every line the gateway prints (warnings and errors at log level warn). */
  readonly onLine?: (line: string) => void;
}

export interface PinnedGateway {
  readonly process: ManagedProcess;
  readonly pid: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly configFile: string;
  /** Every UDP port the gateway may use (SIP, plain RTP, WebRTC), as ranges. */
  readonly udpPorts: readonly (readonly [number, number])[];
  /** `count` fresh tokens for queue:sales (own jti and web session each). */
  issueTokens(count: number): Promise<string[]>;
  /** The most recent call records (at most 500). */
  calls(limit: number): Promise<GatewayCallRecord[]>;
  /** Prometheus gauges by name, from /metrics. */
  gauges(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export async function startPinnedGateway(options: PinnedGatewayOptions): Promise<PinnedGateway> {
  const blocks: PortBlock[] = [];
  const release = (): void => blocks.forEach((b) => b.release());
  try {
    const [tenantKeys, gatewayKeys] = await Promise.all([generateSigningKeyPair('ES256'), generateEncryptionKeyPair()]);
    const take = async (size: number, protocols: ('udp' | 'tcp')[], even: boolean): Promise<PortBlock> => {
      const block = await options.ports.allocate(size, { protocols, even });
      blocks.push(block);
      return block;
    };
    const sip = await take(1, ['udp'], false);
    const http = await take(1, ['tcp'], false);
    // Plain RTP: an RTP/RTCP pair per leg and call; WebRTC: one ICE socket per call (ICE-lite, rtcp-mux).
    const media = await take(Math.min(1000, options.maxCalls * 4 + 40), ['udp'], true);
    const webrtc = await take(Math.min(1000, options.maxCalls * 2 + 20), ['udp'], false);
    const config = {
      gatewayId: GATEWAY_ID,
      http: { host: '127.0.0.1', port: http.base },
      log: { level: 'warn' },
      tokens: { encryptionKeys: [gatewayKeys.privateJwk] },
      tenants: { [TENANT]: { name: 'Bench Shop', jwks: [tenantKeys.publicJwk], maxConcurrentCalls: 100_000 } },
      sip: {
        domain: DOMAIN,
        listen: [{ protocol: 'udp', host: '127.0.0.1', port: sip.base }],
        // Every visitor comes from 127.0.0.1: the per-source limit would refuse a ramp.
        rateLimit: { perSecond: 100_000, burst: 100_000 },
      },
      queues: { [QUEUE]: { tenant: TENANT, ringTimeoutSeconds: 10, maxAttempts: 3 } },
      agents: Array.from({ length: options.agents }, (_, i) => ({
        id: `a${i}`,
        tenant: TENANT,
        password: `bench-secret-${i}`,
        queues: [QUEUE],
        maxCalls: options.maxCallsPerAgent,
        contact: `sip:a${i}@${options.agentContact}`,
      })),
      // Every visitor is a new web session with its own number: a pool that never runs out.
      numbers: { ranges: [{ from: '+15551000000', to: '+15551099999' }], fallback: '+15551199999' },
      media: {
        address: '127.0.0.1',
        portMin: media.base,
        portMax: media.base + media.size - 1,
        webrtcPortMin: webrtc.base,
        webrtcPortMax: webrtc.base + webrtc.size - 1,
        inactivityTimeoutSeconds: 60,
      },
      api: { keys: [{ id: 'bench', key: API_KEY }] },
      storage: { path: join(options.dir, 'parley.sqlite') },
    };
    const configFile = join(options.dir, 'gateway.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2));

    const node = ['node', ...(options.nodeArgs ?? []), '--import', 'tsx', 'gateway/src/main.ts', '--config', configFile];
    const [command = 'node', ...args] = options.cpu === undefined ? node : ['taskset', '-c', String(options.cpu), ...node];
    const child = spawnManaged({
      command,
      args,
      cwd: REPO_ROOT,
      name: 'gateway',
      maxLines: 400,
      onOutput: (chunk) => {
        for (const line of chunk.split('\n')) if (line.trim()) options.onLine?.(line);
      },
    });
    const httpUrl = `http://127.0.0.1:${http.base}`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (!child.running) throw new Error(`the gateway exited while starting:\n${child.describe(40)}`);
      if (Date.now() > deadline) {
        await child.stop();
        throw new Error(`the gateway did not answer /healthz within 30 s:\n${child.describe(40)}`);
      }
      if (await fetch(`${httpUrl}/healthz`).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (child.pid === undefined) throw new Error('the gateway has no pid');

    let issued = 0;
    let lastFailure = '';
    const batch = async (first: number, count: number): Promise<string[] | undefined> => {
      let out = '';
      const issuer = spawnManaged({
        command: 'node',
        args: ['--import', 'tsx', 'bench/src/webrtc/issue-tokens.ts'],
        cwd: REPO_ROOT,
        name: 'issue-tokens',
        stdin: 'pipe',
        maxLines: 20,
        onOutput: (text, stream) => {
          if (stream === 'stdout') out += text;
        },
      });
      issuer.stdin?.end(
        JSON.stringify({ issuer: TENANT, audience: GATEWAY_ID, signingKey: tenantKeys.privateJwk, encryptionKey: gatewayKeys.publicJwk, scope: `queue:${QUEUE}`, origin: ORIGIN, first, count }),
      );
      const limit = setTimeout(() => void issuer.stop({ signal: 'SIGKILL' }), 20_000 + count * 5);
      const exit = await issuer.exited;
      clearTimeout(limit);
      const lines = out.split('\n').filter(Boolean);
      lastFailure = issuer.describe(10);
      return exit.code === 0 && lines.at(-1) === 'done' && lines.length === count + 1 ? lines.slice(0, -1) : undefined;
    };

    return {
      process: child,
      pid: child.pid,
      httpUrl,
      wsUrl: `${httpUrl.replace('http', 'ws')}/sip`,
      configFile,
      udpPorts: [
        [sip.base, sip.base],
        [media.base, media.base + media.size - 1],
        [webrtc.base, webrtc.base + webrtc.size - 1],
      ],
      async issueTokens(count) {
        for (let attempt = 1; attempt <= 3; attempt += 1) {
          const tokens = await batch(issued + 1, count);
          issued += count;
          if (tokens) return tokens;
          process.stderr.write(`[webrtc] token batch of ${count} hung or failed (attempt ${attempt}), retrying\n`);
        }
        throw new Error(`could not issue ${count} tokens in three attempts\n${lastFailure}`);
      },
      async calls(limit) {
        const res = await fetch(`${httpUrl}/v1/calls?limit=${limit}`, { headers: { authorization: `Bearer ${API_KEY}` } });
        if (!res.ok) throw new Error(`GET /v1/calls: HTTP ${res.status}`);
        return ((await res.json()) as { calls: GatewayCallRecord[] }).calls;
      },
      async gauges() {
        const text = await (await fetch(`${httpUrl}/metrics`)).text();
        const out: Record<string, number> = {};
        for (const line of text.split('\n')) {
          const m = /^(parley_[a-z_]+)(?:\{[^}]*\})?\s+([0-9.e+-]+)$/.exec(line);
          if (m?.[1] && m[2] && !line.includes('{')) out[m[1]] = Number(m[2]);
        }
        return out;
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
