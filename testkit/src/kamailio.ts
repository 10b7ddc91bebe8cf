/**
 * Kamailio (Debian `kamailio`) as the SIP edge in front of gateways, with the
 * configuration the repository ships (`deploy/kamailio/kamailio.cfg`): UDP
 * for phones, carriers and sipp, a WebSocket listener for browsers, the
 * dispatcher probing each gateway with OPTIONS every second.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { defaultPortAllocator, type PortAllocator } from './ports.js';
import { runCommand, spawnManaged, type ManagedProcess } from './process.js';

export const KAMAILIO_CONFIG = fileURLToPath(
  new URL('../../deploy/kamailio/kamailio.cfg', import.meta.url),
);

export interface KamailioOptions {
  /** The gateways' SIP addresses (`host:port`, UDP), in dispatcher set 1. */
  readonly gateways: readonly string[];
  /** Listening address. Default 127.0.0.1. */
  readonly host?: string;
  /** OPTIONS probing interval. Default 1 s. */
  readonly probeSeconds?: number;
  readonly ports?: PortAllocator;
}

export interface Kamailio {
  /** `host:port` of the UDP listener. */
  readonly sip: string;
  /** `ws://host:port/` for browsers. */
  readonly wsUrl: string;
  readonly process: ManagedProcess;
  /**
   * What the dispatcher thinks of each gateway now (`kamcmd dispatcher.list`):
   * `active` (gets new calls) or `inactive` (failed its probe, or answered 503),
   * by `host:port`.
   */
  gateways(): Promise<Record<string, 'active' | 'inactive' | 'disabled'>>;
  /** A control command's output (`kamcmd <command> <args…>`, e.g. `ws.dump`). */
  rpc(command: string, ...args: string[]): Promise<string>;
  log(): string;
  stop(): Promise<void>;
}

export async function startKamailio(options: KamailioOptions): Promise<Kamailio> {
  const ports = options.ports ?? defaultPortAllocator();
  const host = options.host ?? '127.0.0.1';
  const udp = await ports.allocate(1, { protocols: ['udp'] });
  const ws = await ports.allocate(1, { protocols: ['tcp'] });
  const dir = await mkdtemp(join(tmpdir(), 'parley-kamailio-'));
  const list = join(dir, 'dispatcher.list');
  const ctl = `unix:${join(dir, 'kamailio_ctl')}`;
  await writeFile(list, options.gateways.map((gw) => `1 sip:${gw} 0 0\n`).join(''));
  const proc = spawnManaged({
    name: 'kamailio',
    command: '/usr/sbin/kamailio',
    args: [
      '-DD', // foreground, one process group
      '-E', // log to stderr
      '-f',
      KAMAILIO_CONFIG,
      '-Y',
      dir,
      '-w',
      dir,
      '-m',
      '64',
      '-M',
      '8',
      '-l',
      `udp:${host}:${udp.base}`,
      '-l',
      `tcp:${host}:${ws.base}`,
      '-A',
      `DISPATCHER_LIST="${list}"`,
      '-A',
      `WS_PORT=${ws.base}`,
      '-A',
      `PROBE_SECONDS=${options.probeSeconds ?? 1}`,
      '-A',
      `CTL_SOCKET="${ctl}"`,
    ],
  });
  const stop = async () => {
    await proc.stop();
    udp.release();
    ws.release();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // Printed once the UDP socket is bound, before the workers start reading it.
    await proc.waitForOutput('SO_RCVBUF is finally', 10_000);
    // The TCP (WebSocket) listener comes later than the UDP socket: a client
    // right after that line was refused (fresh28, edge-websocket test).
    await tcpAccepts(host, ws.base, 10_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    sip: `${host}:${udp.base}`,
    wsUrl: `ws://${host}:${ws.base}/`,
    process: proc,
    gateways: async () => {
      const run = await runCommand('/usr/sbin/kamcmd', ['-s', ctl, 'dispatcher.list'], {
        timeoutMs: 5000,
      });
      return parseDispatcherList(run.stdout);
    },
    rpc: async (command, ...args) =>
      (await runCommand('/usr/sbin/kamcmd', ['-s', ctl, command, ...args], { timeoutMs: 5000 }))
        .stdout,
    log: () => proc.output(),
    stop,
  };
}

/** Resolves once `host:port` accepts a TCP connection (closed at once), retrying every 50 ms. */
async function tcpAccepts(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (accepted) return;
    if (Date.now() > deadline)
      throw new Error(`kamailio: nothing accepted TCP on ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * `kamcmd dispatcher.list` prints, per destination, `URI: sip:host:port` then
 * `FLAGS: AP` (A active, I inactive, D disabled; P probing).
 */
export function parseDispatcherList(
  text: string,
): Record<string, 'active' | 'inactive' | 'disabled'> {
  const states: Record<string, 'active' | 'inactive' | 'disabled'> = {};
  for (const match of text.matchAll(/URI:\s*sip:(\S+)\s+FLAGS:\s*([A-Z]+)/g)) {
    const flags = match[2] ?? '';
    states[match[1] ?? ''] = flags.startsWith('A')
      ? 'active'
      : flags.startsWith('I')
        ? 'inactive'
        : 'disabled';
  }
  return states;
}
