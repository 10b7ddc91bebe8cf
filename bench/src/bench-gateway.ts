/**
 * A gateway for benchmarks, run as its own process the way production runs it
 * (`node --import tsx gateway/src/main.ts --config FILE`, optionally pinned
 * with `taskset`): keys generated at run time, a config file in a temp dir,
 * real SQLite storage there, static agents (fixed contacts, no REGISTER) all
 * pointing at one SIP peer, and a token issuer for its tenant.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '@parley/shared/tokens';
import {
  type ManagedProcess,
  type PortAllocator,
  type PortBlock,
  spawnManaged,
} from '@parley/testkit';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TENANT = 'bench';
export const QUEUE = 'sales';
export const GATEWAY_ID = 'gw-bench';
const API_KEY = 'bench-api-key-0123456789';

export interface BenchGatewayOptions {
  readonly dir: string;
  readonly ports: PortAllocator;
  /** `host:port` of the SIP peer every agent's contact points at. */
  readonly agentContact: string;
  readonly agents: number;
  readonly maxCallsPerAgent: number;
  /** Ports for the media relay (2 RTP/RTCP pairs per call); the caller releases them. */
  readonly media: PortBlock;
  /** CPU for `taskset -c`; undefined: not pinned. */
  readonly cpu?: number;
  /** CPU for the token-issuing child processes; undefined: not pinned. */
  readonly tokenCpu?: number;
  readonly logLevel?: 'warn' | 'info' | 'error';
  /** Extra node flags, e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
  /** Every line the gateway prints. */
  readonly onLine?: (line: string) => void;
}

export interface IssuedBatch {
  readonly tokens: string[];
  /** Token i is for web session `bench-visitor-<firstSession + i>`. */
  readonly firstSession: number;
}

export interface BenchGateway {
  readonly process: ManagedProcess;
  readonly pid: number;
  /** `127.0.0.1:port` of the UDP listener. */
  readonly sip: string;
  readonly httpUrl: string;
  readonly configFile: string;
  /** GET on the gateway's HTTP API (/v1 with the bench API key). */
  get<T>(path: string): Promise<T>;
  /**
   * `count` fresh tokens for queue:sales, each with its own jti and web session,
   * issued in a child process (see token-batch.ts), retried if it hangs.
   */
  issueTokens(count: number): Promise<IssuedBatch>;
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
    const sipBlock = await options.ports.allocate(1, { protocols: ['udp'], even: false });
    blocks.push(sipBlock);
    const httpBlock = await options.ports.allocate(1, { protocols: ['tcp'], even: false });
    blocks.push(httpBlock);
    const { media } = options;
    const config = {
      gatewayId: GATEWAY_ID,
      http: { host: '127.0.0.1', port: httpBlock.base },
      log: { level: options.logLevel ?? 'warn' },
      tokens: { encryptionKeys: [gatewayKeys.privateJwk] },
      tenants: {
        [TENANT]: { name: 'Bench Shop', jwks: [tenantKeys.publicJwk], maxConcurrentCalls: 100_000 },
      },
      sip: {
        domain: 'parley.bench',
        listen: [{ protocol: 'udp', host: '127.0.0.1', port: sipBlock.base }],
        rateLimit: { perSecond: 100_000, burst: 100_000 },
      },
      queues: { [QUEUE]: { tenant: TENANT, ringTimeoutSeconds: 20, maxAttempts: 3 } },
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
        inactivityTimeoutSeconds: 60,
      },
      api: { keys: [{ id: 'bench', key: API_KEY }] },
      storage: { path: join(options.dir, 'parley.sqlite') },
    };
    const configFile = join(options.dir, 'gateway.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2));

    const node = [
      'node',
      ...(options.nodeArgs ?? []),
      '--import',
      'tsx',
      'gateway/src/main.ts',
      '--config',
      configFile,
    ];
    const [command = 'node', ...args] =
      options.cpu === undefined ? node : ['taskset', '-c', String(options.cpu), ...node];
    const child = spawnManaged({
      command,
      args,
      cwd: REPO_ROOT,
      name: 'gateway',
      maxLines: 400,
      ...(options.onLine
        ? {
            onOutput: (chunk: string) => {
              for (const line of chunk.split('\n')) if (line.trim()) options.onLine?.(line);
            },
          }
        : {}),
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
      const ok = await fetch(`${httpUrl}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (child.pid === undefined) throw new Error('the gateway has no pid');

    let session = 0;
    /** The tokens, or what went wrong. */
    const batch = async (first: number, count: number): Promise<string[] | string> => {
      const script = ['node', '--import', 'tsx', 'bench/src/token-batch.ts'];
      const [cmd = 'node', ...cmdArgs] =
        options.tokenCpu === undefined
          ? script
          : ['taskset', '-c', String(options.tokenCpu), ...script];
      let out = '';
      const issuer = spawnManaged({
        command: cmd,
        args: cmdArgs,
        cwd: REPO_ROOT,
        name: 'token-batch',
        stdin: 'pipe',
        maxLines: 20,
        onOutput: (chunk, stream) => {
          if (stream === 'stdout') out += chunk;
        },
      });
      issuer.stdin?.end(
        JSON.stringify({
          issuer: TENANT,
          audience: GATEWAY_ID,
          signingKey: tenantKeys.privateJwk,
          encryptionKey: gatewayKeys.publicJwk,
          scope: `queue:${QUEUE}`,
          first,
          count,
        }),
      );
      const limitMs = 20_000 + count * 2;
      let hung = false;
      const limit = setTimeout(() => {
        hung = true;
        void issuer.stop({ signal: 'SIGKILL' });
      }, limitMs);
      const exit = await issuer.exited;
      clearTimeout(limit);
      const lines = out.split('\n').filter(Boolean);
      if (exit.code === 0 && lines[lines.length - 1] === 'done' && lines.length === count + 1)
        return lines.slice(0, -1);
      return hung
        ? `hung after ${lines.length} tokens (killed after ${limitMs / 1000} s)`
        : `failed (exit ${exit.code ?? exit.signal}): ${issuer.output(5)}`;
    };
    return {
      process: child,
      pid: child.pid,
      sip: `127.0.0.1:${sipBlock.base}`,
      httpUrl,
      configFile,
      async get<T>(path: string) {
        const res = await fetch(`${httpUrl}${path}`, {
          headers: { authorization: `Bearer ${API_KEY}` },
        });
        if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
        return (await res.json()) as T;
      },
      async issueTokens(count) {
        for (let attempt = 1; attempt <= 3; attempt += 1) {
          const firstSession = session + 1;
          session += count;
          const result = await batch(firstSession, count);
          if (typeof result !== 'string') return { tokens: result, firstSession };
          process.stderr.write(
            `[bench] token batch of ${count} ${result} (attempt ${attempt}): retrying\n`,
          );
        }
        throw new Error(`could not issue ${count} tokens in three attempts`);
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
