/**
 * UDP ports for browsers' ICE, one per WebRTC transport, handed out round-robin
 * from the configured range.
 *
 * Given a range, werift finds a port by binding each one from the first in
 * turn, so with N calls up a new call paid N failed binds, each a few
 * event-loop turns queued behind the calls' packets: at 75 calls the browser's
 * answer took p50 0.8 s. Here the gateway's own ports are skipped without a
 * system call, the next free one is checked with a single bind, and werift is
 * given the range [port, port + 1], which it binds at its first try (werift
 * refuses a range of one port, so the range's last port is never leased: it is
 * only werift's fallback, taken if a race lost the leased one). Round-robin,
 * as the RTP pairs (`round-robin.ts`).
 */
import type { SocketType } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { ParleyError } from '@parley/shared/errors';
import { RoundRobinSlots, bindSocket } from './round-robin.js';

export interface WebRtcPortLease {
  readonly port: number;
  /** Gives the port back; safe twice. */
  release(): void;
}

export interface WebRtcPortPool {
  /** The next free port, or rejects with `media_ports_exhausted`. */
  lease(): Promise<WebRtcPortLease>;
  /** Ports leased (or being checked). */
  readonly inUse: number;
  readonly capacity: number;
}

export interface WebRtcPortPoolOptions {
  /** The address ICE sockets bind to. */
  readonly address: string;
  readonly min: number;
  /** Inclusive. */
  readonly max: number;
}

export function createWebRtcPortPool(options: WebRtcPortPoolOptions): WebRtcPortPool {
  const { address, min, max } = options;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1024 || max > 65535 || min >= max) {
    throw new ParleyError(
      'invalid_config',
      `WebRTC port range ${min}-${max} must be integers within 1024-65535, min < max`,
    );
  }
  // Ports min … max - 1; see above for max.
  const slots = new RoundRobinSlots(max - min);
  const type: SocketType = isIPv6(address) ? 'udp6' : 'udp4';

  /** Whether nothing else (another process, a socket still closing) holds the port. */
  const bindable = async (port: number): Promise<true | undefined> => {
    const socket = await bindSocket(type, address, port);
    if (socket === undefined) return undefined;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    return true;
  };

  return {
    get inUse() {
      return slots.inUse;
    },
    capacity: slots.capacity,
    async lease() {
      const claimed = await slots.claim((index) => bindable(min + index));
      if (claimed === undefined) {
        throw new ParleyError(
          'media_ports_exhausted',
          `no free WebRTC port in ${min}-${max - 1} (${slots.inUse} in use)`,
        );
      }
      const { index } = claimed;
      let released = false;
      return {
        port: min + index,
        release() {
          if (released) return;
          released = true;
          slots.release(index);
        },
      };
    },
  };
}
