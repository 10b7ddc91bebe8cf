/**
 * Round-robin over numbered slots (port pairs, ports), shared by the media
 * port pools: each claim starts after the last slot tried, so a slot a call
 * just gave back is the last one reused (late packets of an old call do not
 * land in a new one), and slots taken by concurrent claims are skipped.
 */
import { createSocket, type Socket, type SocketType } from 'node:dgram';

export class RoundRobinSlots {
  readonly capacity: number;
  readonly #taken = new Set<number>();
  #cursor = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** Slots handed out or being claimed. */
  get inUse(): number {
    return this.#taken.size;
  }

  /**
   * Tries each free slot at most once with `claim`, which gives undefined for a
   * slot busy outside our control; the first value it gives wins. Undefined when
   * every slot is taken or busy.
   */
  async claim<T>(
    claim: (index: number) => Promise<T | undefined>,
  ): Promise<{ readonly index: number; readonly value: T } | undefined> {
    for (let tried = 0; tried < this.capacity; tried++) {
      const index = this.#cursor;
      this.#cursor = (this.#cursor + 1) % this.capacity;
      if (this.#taken.has(index)) continue;
      this.#taken.add(index);
      const value = await claim(index);
      if (value !== undefined) return { index, value };
      this.#taken.delete(index); // busy outside our control: skip it this time
    }
    return undefined;
  }

  release(index: number): void {
    this.#taken.delete(index);
  }
}

/**
 * A UDP socket bound to `port`, or undefined (nothing left open) if it is
 * busy. With `handover` the port is first checked free by an exclusive bind
 * (a port someone else holds fails), then bound with SO_REUSEADDR so that
 * one other socket that also asks for it (the mediasoup worker taking the
 * leg over: `mediasoup/plain-transport.ts`) can bind it before this one
 * closes: the port never goes dark, so no peer gets an ICMP port unreachable
 * (sipp, like any RTP stack on a connected socket, stops sending for good
 * on the ECONNREFUSED that follows). While both are bound Linux gives each
 * packet to one of them (usually the newest; the one that last received on
 * the packet's CPU scores higher), and the old one closes right after.
 *
 * The cost: on Linux SO_REUSEADDR on UDP is not limited to one user, so a
 * local process that also asks for it can bind a call's port and take its
 * packets (the exclusive probe keeps out only those that do not ask). Run
 * the gateway where no untrusted local process runs (its own host, container
 * or network namespace); SO_REUSEPORT (same user only) would need the worker
 * built to ask for it (docs/architecture.md, media).
 */
export async function bindSocket(
  type: SocketType,
  address: string,
  port: number,
  options: { readonly handover?: boolean } = {},
): Promise<Socket | undefined> {
  if (!options.handover) return bindOnce(type, address, port, false);
  const probe = await bindOnce(type, address, port, false);
  if (probe === undefined) return undefined;
  await new Promise<void>((resolve) => probe.close(resolve));
  return bindOnce(type, address, port, true);
}

function bindOnce(
  type: SocketType,
  address: string,
  port: number,
  reuseAddr: boolean,
): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    // Without handover reuseAddr stays off: a port someone else holds must fail to bind.
    const socket = createSocket({ type, reuseAddr });
    const onError = (): void => {
      try {
        socket.close();
      } catch {
        // never bound, nothing to close
      }
      resolve(undefined);
    };
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}
