/**
 * coturn (`turnserver`, Debian `coturn`) as a real TURN server for tests: on
 * 127.0.0.1 only, UDP and TCP, the shared-secret credential scheme
 * (`use-auth-secret`), relay ports from the testkit's port allocator, its own
 * throwaway database, and loopback peers allowed (test media stays on lo).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { defaultPortAllocator, type PortAllocator } from './ports.js';
import { type ManagedProcess, runCommand, spawnManaged } from './process.js';

export interface CoturnOptions {
  /** The `static-auth-secret` credentials are minted with. */
  readonly secret: string;
  readonly realm?: string;
  /** Relay ports to reserve. Default 20. */
  readonly relayPorts?: number;
  readonly ports?: PortAllocator;
}

export interface Coturn {
  readonly port: number;
  /** `turn:127.0.0.1:<port>?transport=udp` and `…transport=tcp`. */
  readonly urls: readonly string[];
  readonly relayPorts: { readonly min: number; readonly max: number };
  readonly process: ManagedProcess;
  /** Lines of coturn's log (sessions, allocations, 401s). */
  log(): string;
  stop(): Promise<void>;
}

export async function startCoturn(options: CoturnOptions): Promise<Coturn> {
  const ports = options.ports ?? defaultPortAllocator();
  const listen = await ports.allocate(1, { protocols: ['udp', 'tcp'], even: false });
  const relay = await ports.allocate(options.relayPorts ?? 20, { protocols: ['udp'], even: false });
  const dir = await mkdtemp(join(tmpdir(), 'parley-coturn-'));
  const max = relay.base + relay.size - 1;
  const proc = spawnManaged({
    name: 'turnserver',
    command: '/usr/bin/turnserver',
    args: [
      '-n', // no config file
      '--listening-ip=127.0.0.1',
      '--relay-ip=127.0.0.1',
      `--listening-port=${listen.base}`,
      `--min-port=${relay.base}`,
      `--max-port=${max}`,
      '--use-auth-secret',
      `--static-auth-secret=${options.secret}`,
      `--realm=${options.realm ?? 'parley.test'}`,
      '--fingerprint',
      '--no-tls',
      '--no-dtls',
      '--no-cli',
      '--no-multicast-peers',
      '--allow-loopback-peers',
      '--no-software-attribute',
      `--userdb=${join(dir, 'turndb')}`,
      `--pidfile=${join(dir, 'turnserver.pid')}`,
      '--log-file=stdout',
      '--simple-log',
      '--verbose',
    ],
  });
  const stop = async () => {
    await proc.stop();
    listen.release();
    relay.release();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await proc.waitForOutput('Total General servers', 10_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    port: listen.base,
    urls: [
      `turn:127.0.0.1:${listen.base}?transport=udp`,
      `turn:127.0.0.1:${listen.base}?transport=tcp`,
    ],
    relayPorts: { min: relay.base, max },
    process: proc,
    log: () => proc.output(),
    stop,
  };
}

export interface TurnProbeResult {
  /** The allocation succeeded and every message came back through the relay. */
  readonly ok: boolean;
  /** Messages that came back through the relay. */
  readonly received: number;
  readonly output: string;
}

/**
 * A real TURN client (coturn's `turnutils_uclient`) allocates with these
 * credentials and sends 10 messages between two relayed allocations
 * (client-to-client), over UDP or TCP.
 */
export async function probeTurn(
  server: Pick<Coturn, 'port'>,
  credentials: { readonly username: string; readonly credential: string },
  transport: 'udp' | 'tcp' = 'udp',
): Promise<TurnProbeResult> {
  const args = [
    ...(transport === 'tcp' ? ['-t'] : []),
    '-u',
    credentials.username,
    '-w',
    credentials.credential,
    '-p',
    String(server.port),
    '-n',
    '5',
    '-m',
    '1',
    '-c',
    '-y',
    '127.0.0.1',
  ];
  const run = await runCommand('/usr/bin/turnutils_uclient', args, {
    timeoutMs: 20_000,
    allowFailure: true,
  });
  const output = run.stdout + run.stderr;
  const totals = [...output.matchAll(/tot_send_msgs=(\d+), tot_recv_msgs=(\d+)/g)].at(-1);
  const sent = Number(totals?.[1] ?? 0);
  const received = Number(totals?.[2] ?? 0);
  return { ok: run.code === 0 && sent > 0 && received === sent, received, output };
}
