/**
 * The gateway side of the media-applications benchmark, in its own process
 * (pinned to its own core by media-apps.ts): a relay engine and MediaApps,
 * and on each call's leg a looped flite prompt (say), a recording of what the
 * phone sends (record) and a DTMF listener. Driven over IPC by the parent,
 * which plays the phones.
 */
import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MediaApps, wavFile, type LegMedia } from '../../../gateway/src/media/apps/index.js';
import { createRelayEngine } from '../../../gateway/src/media/relay-engine.js';
import { createLogger } from '../../../gateway/src/observability/index.js';
import type { RelayTransport } from '../../../gateway/src/media/relay-transport.js';

export type WorkerRequest =
  | { type: 'open'; count: number }
  | { type: 'aim'; ports: number[] }
  | { type: 'start' }
  | { type: 'measure'; seconds: number }
  | { type: 'dtmf'; presses: number }
  | { type: 'stop' };

export type WorkerReply =
  | { type: 'opened'; ports: number[] }
  | { type: 'started'; firstPacketMs: number[] }
  | {
      type: 'measured';
      cpuPercent: number;
      rssBytes: number;
      ticks: number;
      lateTicks: number;
      skippedTicks: number;
      maxLatenessMs: number;
      eventLoopUtilization: number;
    }
  | { type: 'dtmf'; latenciesMs: number[] }
  | { type: 'stopped' };

const [portMin, portMax, prompt] = process.argv.slice(2);
const logger = createLogger('warn');
const engine = createRelayEngine({
  address: '127.0.0.1',
  portMin: Number(portMin),
  portMax: Number(portMax),
  logger,
});
const apps = new MediaApps({ logger });
const router = engine.createRouter({ callId: 'bench', inactivityTimeoutMs: 0 });
const recordings = await mkdtemp(join(tmpdir(), 'parley-bench-rec-'));
const transports: RelayTransport[] = [];
const legs: LegMedia[] = [];
const PCMU = { name: 'PCMU', clockRate: 8000, channels: 1, payloadType: 0 };
const EVENTS = { name: 'telephone-event', clockRate: 8000, channels: 1, payloadType: 101 };

function reply(message: WorkerReply): void {
  process.send?.(message);
}

async function start(): Promise<number[]> {
  const delays: number[] = [];
  const firsts: Promise<void>[] = [];
  // The legs opened since the last start.
  for (const [i, transport] of transports.entries()) {
    if (i < legs.length) continue;
    const leg = await apps.attach(router, transport, { codec: PCMU, telephoneEvent: EVENTS });
    legs.push(leg);
    leg.record({ files: { in: join(recordings, `leg-${i}.wav`) } });
    const started = performance.now();
    firsts.push(
      new Promise<void>((resolve) => {
        const onRtp = (_: unknown, direction: 'in' | 'out') => {
          if (direction !== 'out') return;
          delays.push(performance.now() - started);
          leg.endpoint.off('rtp', onRtp);
          resolve();
        };
        leg.endpoint.on('rtp', onRtp);
      }),
    );
    void leg.play(wavFile(prompt!), { loop: true });
  }
  await Promise.all(firsts);
  return delays;
}

/**
 * RFC 4733 key presses from a socket of our own to one more leg (the phones'
 * legs are latched to the phones, which would keep a second source out),
 * under the load of all the others: send → `digit` event.
 */
async function dtmf(presses: number): Promise<number[]> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const transport = await router.createPlainTransport({ name: 'keys' });
  transport.setRemote({ address: '127.0.0.1', rtpPort: socket.address().port });
  const leg = await apps.attach(router, transport, { codec: PCMU, telephoneEvent: EVENTS });
  const latencies: number[] = [];
  for (let n = 0; n < presses; n += 1) {
    const packet = Buffer.alloc(16);
    packet[0] = 0x80;
    packet[1] = 101;
    packet.writeUInt16BE(n, 2);
    packet.writeUInt32BE(1000 + n * 8000, 4);
    packet.writeUInt32BE(0xbe0c, 8);
    packet[12] = n % 10;
    packet[13] = 0x80 | 10; // the end packet: the listener reports the digit on it
    packet.writeUInt16BE(800, 14);
    await new Promise<void>((resolve) => {
      const at = performance.now();
      leg.dtmf.once('digit', () => {
        latencies.push(performance.now() - at);
        resolve();
      });
      socket.send(packet, transport.rtpPort, '127.0.0.1');
    });
    await new Promise((r) => setTimeout(r, 30));
  }
  leg.close();
  transport.close();
  socket.close();
  return latencies;
}

process.on('message', (message: WorkerRequest) => {
  void (async () => {
    switch (message.type) {
      case 'open': {
        const opened: RelayTransport[] = [];
        for (let i = 0; i < message.count; i += 1)
          opened.push(await router.createPlainTransport({ name: `leg-${transports.length + i}` }));
        transports.push(...opened);
        reply({ type: 'opened', ports: opened.map((t) => t.rtpPort) });
        return;
      }
      case 'aim': {
        // The phones of the legs opened last, in order.
        const first = transports.length - message.ports.length;
        message.ports.forEach((port, i) =>
          transports[first + i]!.setRemote({ address: '127.0.0.1', rtpPort: port }),
        );
        return;
      }
      case 'start':
        reply({ type: 'started', firstPacketMs: await start() });
        return;
      case 'measure': {
        const before = apps.pacer.stats();
        const cpu = process.cpuUsage();
        const elu = performance.eventLoopUtilization();
        const t0 = performance.now();
        await new Promise((r) => setTimeout(r, message.seconds * 1000));
        const used = process.cpuUsage(cpu);
        const wall = performance.now() - t0;
        const after = apps.pacer.stats();
        reply({
          type: 'measured',
          cpuPercent: ((used.user + used.system) / 1000 / wall) * 100,
          rssBytes: process.memoryUsage().rss,
          ticks: after.ticks - before.ticks,
          lateTicks: after.lateTicks - before.lateTicks,
          skippedTicks: after.skippedTicks - before.skippedTicks,
          maxLatenessMs: after.maxLatenessMs,
          eventLoopUtilization: performance.eventLoopUtilization(elu).utilization,
        });
        return;
      }
      case 'dtmf':
        reply({ type: 'dtmf', latenciesMs: await dtmf(message.presses) });
        return;
      case 'stop':
        apps.close();
        await engine.close();
        await rm(recordings, { recursive: true, force: true });
        reply({ type: 'stopped' });
        process.exit(0);
    }
  })();
});
