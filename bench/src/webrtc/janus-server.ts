/**
 * Janus (Debian's `janus` 1.1, its SIP plugin) as the peer the WebRTC
 * benchmark measures Parley against: the same job (a browser's WebRTC call
 * bridged to a SIP agent as plain RTP, no transcoding), configured as Parley
 * is: ICE-lite, one process, SIP over UDP on 127.0.0.1, browsers on a
 * WebSocket. Config written to a temp dir at run time; every plugin and
 * transport but the SIP plugin and WebSockets is off.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import {
  spawnManaged,
  type ManagedProcess,
  type PortAllocator,
  type PortBlock,
} from '@parley/testkit';

const LIB = '/usr/lib/x86_64-linux-gnu/janus';
const BINARY = '/usr/bin/janus';

export interface JanusOptions {
  readonly dir: string;
  readonly ports: PortAllocator;
  /** Janus's WebRTC (ICE) ports: one per call. */
  readonly webrtc: PortBlock;
  /** The SIP plugin's RTP ports toward the agent (RTP/RTCP pairs). */
  readonly rtp: PortBlock;
  /** CPU for `taskset -c`. */
  readonly cpu?: number;
  readonly onLine?: (line: string) => void;
}

export interface JanusServer {
  readonly process: ManagedProcess;
  readonly pid: number;
  readonly wsUrl: string;
  /** Every UDP port Janus may use, as ranges (for the kernel's drop counters). */
  readonly udpPorts: readonly (readonly [number, number])[];
  stop(): Promise<void>;
}

export function janusInstalled(): boolean {
  return existsSync(BINARY) && existsSync(join(LIB, 'plugins', 'libjanus_sip.so'));
}

const DISABLED_PLUGINS = [
  'audiobridge',
  'duktape',
  'echotest',
  'lua',
  'nosip',
  'recordplay',
  'streaming',
  'textroom',
  'videocall',
  'videoroom',
  'voicemail',
].map((p) => `libjanus_${p}.so`);
const DISABLED_TRANSPORTS = ['http', 'mqtt', 'nanomsg', 'pfunix', 'rabbitmq'].map(
  (t) => `libjanus_${t}.so`,
);

export async function startJanus(options: JanusOptions): Promise<JanusServer> {
  if (!janusInstalled()) throw new Error('janus is not installed (scripts/install-system-deps.sh)');
  const ws = await options.ports.allocate(1, { protocols: ['tcp'], even: false });
  const dir = join(options.dir, 'janus');
  mkdirSync(dir, { recursive: true });
  const { webrtc, rtp } = options;
  writeFileSync(
    join(dir, 'janus.jcfg'),
    `general: {
  configs_folder = "${dir}"
  plugins_folder = "${LIB}/plugins"
  transports_folder = "${LIB}/transports"
  events_folder = "${LIB}/events"
  loggers_folder = "${LIB}/loggers"
  log_to_stdout = true
  debug_level = 3
  session_timeout = 0
  admin_secret = "bench-admin-${process.pid}"
}
certificates: {
}
media: {
  rtp_port_range = "${webrtc.base}-${webrtc.base + webrtc.size - 1}"
}
nat: {
  ice_lite = true
  ice_tcp = false
  full_trickle = false
  nice_debug = false
  ignore_mdns = true
  ice_enforce_list = "127.0.0.1"
}
plugins: {
  disable = "${DISABLED_PLUGINS.join(',')}"
}
transports: {
  disable = "${DISABLED_TRANSPORTS.join(',')}"
}
loggers: {
  disable = "libjanus_jsonlog.so"
}
events: {
  broadcast = false
}
`,
  );
  writeFileSync(
    join(dir, 'janus.plugin.sip.jcfg'),
    `general: {
  local_ip = "127.0.0.1"
  sdp_ip = "127.0.0.1"
  keepalive_interval = 0
  behind_nat = false
  register_ttl = 3600
  rtp_port_range = "${rtp.base}-${rtp.base + rtp.size - 1}"
  events = false
}
`,
  );
  writeFileSync(
    join(dir, 'janus.transport.websockets.jcfg'),
    `general: {
  json = "compact"
  ws = true
  ws_port = ${ws.base}
  ws_ip = "127.0.0.1"
  wss = false
}
admin: {
  admin_ws = false
  admin_wss = false
}
`,
  );
  const args = ['--configs-folder', dir, '--config', join(dir, 'janus.jcfg')];
  const [command = BINARY, ...rest] =
    options.cpu === undefined
      ? [BINARY, ...args]
      : ['taskset', '-c', String(options.cpu), BINARY, ...args];
  const child = spawnManaged({
    command,
    args: rest,
    name: 'janus',
    maxLines: 400,
    onOutput: (chunk: string) => {
      for (const line of chunk.split('\n')) if (line.trim()) options.onLine?.(line);
    },
  });
  const wsUrl = `ws://127.0.0.1:${ws.base}`;
  // Ready when its WebSocket port takes connections (at log level 3 it says nothing).
  const deadline = Date.now() + 30_000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(ws.base, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) break;
    if (!child.running || Date.now() > deadline) {
      await child.stop();
      ws.release();
      throw new Error(`janus did not start:\n${child.describe(40)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (child.pid === undefined) throw new Error('janus has no pid');
  return {
    process: child,
    pid: child.pid,
    wsUrl,
    udpPorts: [
      [webrtc.base, webrtc.base + webrtc.size - 1],
      [rtp.base, rtp.base + rtp.size - 1],
    ],
    async stop() {
      await child.stop({ graceMs: 5000 });
      ws.release();
    },
  };
}
