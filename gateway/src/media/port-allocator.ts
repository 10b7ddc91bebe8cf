/**
 * RTP port pairs from a configured range. RTP takes an even port and RTCP the
 * next odd one (RFC 3550 §11: "RTP SHOULD use an even destination port number
 * and the corresponding RTCP stream SHOULD use the next higher (odd)" port), so
 * peers that ignore `a=rtcp` still find our RTCP socket.
 *
 * A pair is handed out only once both UDP sockets are bound: a port another
 * process holds is skipped, never reported as ours. Pairs are handed out
 * round-robin, so a port freed by a call that just ended is the last one reused
 * (late packets of the old call do not land in a new one).
 */
import type { Socket, SocketType } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { ParleyError } from '@parley/shared/errors';
import { RoundRobinSlots, bindSocket } from './round-robin.js';

export interface PortAllocatorOptions {
  /** The address both sockets bind to. */
  readonly address: string;
  /** First port of the range (rounded up to even). */
  readonly min: number;
  /** Last port of the range (inclusive; the last pair's RTCP port must fit). */
  readonly max: number;
}

/** Two bound sockets on `rtpPort` and `rtpPort + 1`. `release()` closes both; safe twice. */
export interface PortPair {
  readonly rtpPort: number;
  readonly rtcpPort: number;
  readonly rtp: Socket;
  readonly rtcp: Socket;
  readonly released: boolean;
  /**
   * Closes both sockets but keeps the pair leased, so that another process (a
   * mediasoup worker) can bind the same ports for this call; `release()` then
   * gives the pair back. Safe twice.
   */
  closeSockets(): void;
  release(): void;
}

export interface PortAllocator {
  /** Binds the next free pair, or rejects with `media_ports_exhausted`. */
  allocate(): Promise<PortPair>;
  /** Pairs in use (handed out or being bound). */
  readonly inUse: number;
  /** Pairs the range holds. */
  readonly capacity: number;
  /** Resolves once every socket handed out so far has finished closing. */
  drain(): Promise<void>;
}

export function createPortAllocator(options: PortAllocatorOptions): PortAllocator {
  const { address } = options;
  if (!Number.isInteger(options.min) || !Number.isInteger(options.max)) {
    throw new ParleyError('invalid_config', 'media port range must be integers');
  }
  const first = options.min % 2 === 0 ? options.min : options.min + 1;
  if (first < 1024 || options.max > 65535 || first + 1 > options.max) {
    throw new ParleyError(
      'invalid_config',
      `media port range ${options.min}-${options.max} holds no RTP/RTCP pair within 1024-65535`,
    );
  }
  const capacity = Math.floor((options.max - first + 1) / 2);
  const type: SocketType = isIPv6(address) ? 'udp6' : 'udp4';
  /** Pair indexes handed out or being bound. */
  const slots = new RoundRobinSlots(capacity);
  /** Sockets not yet fully closed and allocations not yet settled, for drain(). */
  const closing = new Set<Promise<void>>();
  const pending = new Set<Promise<unknown>>();

  function closeSockets(rtp: Socket, rtcp: Socket): void {
    // The kernel frees the port when the fd closes, which dgram does at once
    // (only the 'close' event is deferred), so the ports may be bound again now.
    closing.add(closeSocket(rtp));
    closing.add(closeSocket(rtcp));
  }

  function closeSocket(socket: Socket): Promise<void> {
    const done = new Promise<void>((resolve) => {
      socket.once('close', resolve);
      try {
        socket.close();
      } catch {
        resolve(); // already closed
      }
    });
    void done.then(() => closing.delete(done));
    return done;
  }

  function allocate(): Promise<PortPair> {
    const attempt = tryAllocate();
    const settled = attempt.then(
      () => undefined,
      () => undefined,
    );
    pending.add(settled);
    void settled.then(() => pending.delete(settled));
    return attempt;
  }

  async function tryAllocate(): Promise<PortPair> {
    const claimed = await slots.claim((index) => bindPair(type, address, first + index * 2));
    if (claimed === undefined) {
      throw new ParleyError(
        'media_ports_exhausted',
        `${slots.inUse}/${capacity} pairs in use in ${first}-${options.max}`,
      );
    }
    const { index } = claimed;
    const [rtp, rtcp] = claimed.value;
    const rtpPort = first + index * 2;
    let released = false;
    let socketsClosed = false;
    const close = (): void => {
      if (socketsClosed) return;
      socketsClosed = true;
      closeSockets(rtp, rtcp);
    };
    return {
      rtpPort,
      rtcpPort: rtpPort + 1,
      rtp,
      rtcp,
      get released() {
        return released;
      },
      closeSockets: close,
      release() {
        if (released) return;
        released = true;
        close();
        slots.release(index);
      },
    };
  }

  return {
    allocate,
    get inUse() {
      return slots.inUse;
    },
    capacity,
    async drain() {
      while (closing.size > 0 || pending.size > 0) {
        await Promise.all([...closing, ...pending]);
        // Let whoever awaited a pending allocation release it before looking again.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    },
  };
}

/** Binds RTP then RTCP; undefined (nothing left open) if either port is busy. */
async function bindPair(
  type: SocketType,
  address: string,
  rtpPort: number,
): Promise<[Socket, Socket] | undefined> {
  // Handed over to a mediasoup worker without a gap when the leg moves there.
  const rtp = await bindSocket(type, address, rtpPort, { handover: true });
  if (rtp === undefined) return undefined;
  const rtcp = await bindSocket(type, address, rtpPort + 1, { handover: true });
  if (rtcp === undefined) {
    rtp.close();
    return undefined;
  }
  return [rtp, rtcp];
}
