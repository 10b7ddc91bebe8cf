/**
 * A rough throughput figure for the relay, not an assertion (timings depend on
 * the machine): N calls, both phones sending G.711-sized RTP at 50 packets/s,
 * phones in a child process so `process.cpuUsage()` measures the relay alone.
 *
 *   PARLEY_MEDIA_BENCH=1 [PARLEY_MEDIA_BENCH_CALLS=50] npx vitest run --project unit \
 *     gateway/src/media/relay-engine.throughput.test.ts
 */
import { spawn } from 'node:child_process';
import { pino } from 'pino';
import { expect, it } from 'vitest';
import { createRelayEngine } from './relay-engine.js';
import type { RelayTransport } from './relay-transport.js';
import { reservePortBase, sleep } from './test-phone.js';

const enabled = process.env['PARLEY_MEDIA_BENCH'] === '1';
const calls = Number(process.env['PARLEY_MEDIA_BENCH_CALLS'] ?? 50);
const PPS = 50;
const WARMUP_MS = 1000;
const MEASURE_MS = 5000;

/** The phones: one socket per leg, one 172-byte RTP packet per leg every 20 ms. */
const PHONES = `
const dgram = require('node:dgram');
const ports = JSON.parse(process.argv[1]);
const packet = Buffer.alloc(172, 0xd5); packet[0] = 0x80;
let received = 0;
const sockets = ports.map((port) => {
  const s = dgram.createSocket('udp4');
  s.on('message', () => { received++; });
  s.bind(0, '127.0.0.1');
  return { s, port };
});
let seq = 0;
setInterval(() => {
  seq++;
  packet.writeUInt16BE(seq & 0xffff, 2);
  for (const { s, port } of sockets) s.send(packet, port, '127.0.0.1');
}, ${1000 / PPS});
process.on('SIGTERM', () => { process.stdout.write(String(received)); process.exit(0); });
`;

it.skipIf(!enabled)(
  `relays ${calls} calls at ${PPS} pps per leg (prints CPU use)`,
  async () => {
    const base = await reservePortBase(calls * 4 + 2);
    const engine = createRelayEngine({
      address: '127.0.0.1',
      portMin: base,
      portMax: base + calls * 4 + 1,
      logger: pino({ level: 'silent' }),
    });
    const transports: RelayTransport[] = [];
    for (let i = 0; i < calls; i++) {
      const router = engine.createRouter({ callId: `bench-${i}`, inactivityTimeoutMs: 30_000 });
      const a = await router.createPlainTransport({ name: 'a' });
      const b = await router.createPlainTransport({ name: 'b' });
      router.pipe(a, b); // no setRemote: both legs are found by latching
      transports.push(a, b);
    }
    const phones = spawn(
      process.execPath,
      ['-e', PHONES, JSON.stringify(transports.map((t) => t.rtpPort))],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    phones.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await sleep(WARMUP_MS);
      const forwarded = (): number => transports.reduce((n, t) => n + t.stats().packetsOut, 0);
      const before = { out: forwarded(), cpu: process.cpuUsage(), at: performance.now() };
      await sleep(MEASURE_MS);
      const cpu = process.cpuUsage(before.cpu);
      const seconds = (performance.now() - before.at) / 1000;
      const pps = (forwarded() - before.out) / seconds;
      const cpuPercent = ((cpu.user + cpu.system) / 1e6 / seconds) * 100;
      console.log(
        `relay: ${calls} calls, ${Math.round(pps)} packets/s forwarded, ` +
          `CPU ${cpuPercent.toFixed(1)}% of one core ` +
          `(user ${((cpu.user / 1e6 / seconds) * 100) | 0}%, system ${((cpu.system / 1e6 / seconds) * 100) | 0}%), ` +
          `${(((cpuPercent / 100) * 1e6) / pps).toFixed(1)} µs CPU per packet`,
      );
      expect(pps).toBeGreaterThan(0);
    } finally {
      const exited = new Promise((resolve) => phones.once('exit', resolve));
      phones.kill('SIGTERM');
      await exited;
      await engine.close();
    }
    console.log(`phones received ${output} packets in total`);
  },
  60_000,
);
