/**
 * The kernel's socket tables (`/proc/net/{tcp,tcp6,udp,udp6}`) of this
 * network namespace, read without touching the sockets.
 *
 * Why not bind to find out: a probe that binds a port to see whether a peer
 * holds it races the peer (while the probe holds the port, the peer's own
 * bind fails with EADDRINUSE: sipp did, once, over TCP); and Node's TCP
 * listen sets SO_REUSEADDR, so a bind probe cannot see a port that a closed
 * connection keeps in TIME_WAIT, which a peer without SO_REUSEADDR (sipp)
 * then cannot bind.
 */
import { readFileSync } from 'node:fs';

export type SocketProtocol = 'udp' | 'tcp';

/** TCP states as the kernel numbers them (include/net/tcp_states.h). */
const TCP_LISTEN = 0x0a;

export interface SocketEntry {
  readonly protocol: SocketProtocol;
  readonly localPort: number;
  /** The kernel's state number (TCP: 0x0A listen, 0x06 time-wait…; UDP: 0x07 bound). */
  readonly state: number;
}

function readTable(file: string, protocol: SocketProtocol): SocketEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return []; // no IPv6 in this kernel, or no /proc: nothing to report
  }
  const entries: SocketEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    const state = fields[3];
    if (!local || !state) continue;
    const port = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    if (Number.isNaN(port)) continue;
    entries.push({ protocol, localPort: port, state: Number.parseInt(state, 16) });
  }
  return entries;
}

/** Every socket of `protocol` in this namespace (any state, any address). */
export function sockets(protocol: SocketProtocol): SocketEntry[] {
  return [
    ...readTable(`/proc/net/${protocol}`, protocol),
    ...readTable(`/proc/net/${protocol}6`, protocol),
  ];
}

/** True when any socket (listening, connected, or in TIME_WAIT) has `port` as its local port. */
export function portInUse(protocol: SocketProtocol, port: number): boolean {
  return sockets(protocol).some((s) => s.localPort === port);
}

/** True when something listens on TCP `port`, or has UDP `port` bound: a peer is up. */
export function portListening(protocol: SocketProtocol, port: number): boolean {
  return sockets(protocol).some(
    (s) => s.localPort === port && (protocol === 'udp' || s.state === TCP_LISTEN),
  );
}

/** Whether this machine has the tables at all (Linux). */
export function socketTablesAvailable(): boolean {
  try {
    readFileSync('/proc/net/tcp', 'utf8');
    return true;
  } catch {
    return false;
  }
}
