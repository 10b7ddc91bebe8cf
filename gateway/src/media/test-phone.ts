/**
 * Test helpers for the relay: a "phone" is a pair of plain UDP sockets on
 * 127.0.0.1 that sends and records RTP/RTCP; no media stack, so what the relay
 * forwards is compared byte for byte. Used by the media tests only.
 * @internal
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

import { defaultPortAllocator } from '@parley/testkit';

export interface Received {
  readonly data: Buffer;
  readonly from: RemoteInfo;
}

export interface TestSocket {
  readonly socket: Socket;
  readonly port: number;
  readonly received: Received[];
  send(data: Buffer, port: number): Promise<void>;
  /** Resolves with the `count`-th packet received overall (1-based), or rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<Received>;
  close(): Promise<void>;
}

export interface TestPhone {
  readonly rtp: TestSocket;
  readonly rtcp: TestSocket;
  close(): Promise<void>;
}

export async function openTestSocket(port = 0): Promise<TestSocket> {
  const socket = createSocket('udp4');
  const received: Received[] = [];
  const waiters: { count: number; resolve: (r: Received) => void }[] = [];
  socket.on('message', (data, from) => {
    received.push({ data, from });
    for (const waiter of [...waiters]) {
      if (received.length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(received[waiter.count - 1]!);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  let closed = false;
  return {
    socket,
    port: socket.address().port,
    received,
    send(data, to) {
      return new Promise((resolve, reject) =>
        socket.send(data, to, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
      );
    },
    waitFor(count, timeoutMs = 2000) {
      const ready = received[count - 1];
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`timed out waiting for packet ${count} on ${socket.address().port}`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: (r) => {
            clearTimeout(timer);
            resolve(r);
          },
        });
      });
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise((resolve) => socket.close(() => resolve()));
    },
  };
}

export async function openTestPhone(): Promise<TestPhone> {
  const rtp = await openTestSocket();
  const rtcp = await openTestSocket();
  return {
    rtp,
    rtcp,
    async close() {
      await Promise.all([rtp.close(), rtcp.close()]);
    },
  };
}

/** A G.711 RTP packet (12-byte header + 160 bytes of payload filled with `fill`). */
export function rtpPacket(seq: number, fill = 0xd5, ssrc = 0x1234abcd): Buffer {
  const packet = Buffer.alloc(172, fill);
  packet[0] = 0x80;
  packet[1] = 0; // PT 0 (PCMU), no marker
  packet.writeUInt16BE(seq & 0xffff, 2);
  packet.writeUInt32BE((seq * 160) >>> 0, 4);
  packet.writeUInt32BE(ssrc >>> 0, 8);
  return packet;
}

/** A minimal RTCP receiver report (RFC 3550 §6.4.2) with no report blocks, and a tag. */
export function rtcpPacket(tag: number): Buffer {
  const packet = Buffer.alloc(12);
  packet[0] = 0x80;
  packet[1] = 201; // RR
  packet.writeUInt16BE(2, 2); // length in 32-bit words minus one
  packet.writeUInt32BE(0x1234abcd, 4);
  packet.writeUInt32BE(tag, 8); // not RR content, only a marker for the test
  return packet;
}

/**
 * An even base port with `span` UDP ports after it reserved for this test
 * process (testkit's lock files, checked against the kernel's socket table),
 * so tests running in parallel never pick the same ports; a random guess in
 * the same range as testkit's peers could collide with them.
 */
export async function reservePortBase(span: number): Promise<number> {
  const block = await defaultPortAllocator().allocate(span, { protocols: ['udp'], even: true });
  return block.base;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An RTP packet's payload (RFC 3550 §5.1: after the CSRCs and the header extension; padding off). */
export function rtpPayload(packet: Buffer): Buffer {
  let offset = 12 + 4 * (packet[0]! & 0x0f);
  if (packet[0]! & 0x10) offset += 4 + 4 * packet.readUInt16BE(offset + 2);
  const padding = packet[0]! & 0x20 ? packet[packet.length - 1]! : 0;
  return packet.subarray(offset, packet.length - padding);
}
