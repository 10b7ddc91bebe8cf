/**
 * Media applications (issue 10 item 5): how many calls one core carries with
 * a prompt playing (say, looped) and the caller recorded (record) on each, the
 * first prompt packet's delay from play(), RFC 4733 key press → listener
 * latency, and the pacer's late frames under that load; then the per-frame
 * cost of the codecs (G.711, Opus through opusscript) and the resampler.
 *
 * The gateway side (relay engine + MediaApps, media-apps/worker.ts) is a child
 * process pinned to one CPU; the phones (one UDP socket per call, a µ-law tone
 * every 20 ms from one drift-free timer, counting what they receive) run here,
 * on the other CPU.
 *
 *   node --import tsx bench/src/media-apps.ts [--steps 50,100,200,400] [--hold 10] [--quick]
 */
import { fork } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PortAllocator, speak } from '@parley/testkit';
import { pcmCodecFor } from '../../gateway/src/media/apps/codec.js';
import { Resampler } from '../../gateway/src/media/apps/resampler.js';
import { percentile } from './latency-stats.js';
import { which } from './sipp-pinning.js';
import type { WorkerReply, WorkerRequest } from './media-apps/worker.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '50,100,200,400' },
    hold: { type: 'string', default: '10' },
    presses: { type: 'string', default: '40' },
    quick: { type: 'boolean', default: false },
  },
});
const STEPS = (values.quick ? '20,50' : values.steps).split(',').map(Number);
const HOLD = values.quick ? 3 : Number(values.hold);
const PRESSES = values.quick ? 10 : Number(values.presses);
const MAX = Math.max(...STEPS);

const taskset = which('taskset');
const twoCpus = cpus().length >= 2 && taskset !== undefined;
if (twoCpus) {
  // The phones on CPU 1; the worker is started on CPU 0.
  const { execFileSync } = await import('node:child_process');
  execFileSync(taskset, ['-pc', '1', String(process.pid)]);
}

const work = await mkdtemp(join(tmpdir(), 'parley-bench-apps-'));
const prompt = await speak({
  text: 'thank you for calling, all our agents are busy, please hold the line',
  path: join(work, 'prompt.wav'),
});
const ports = new PortAllocator();
const block = await ports.allocate(2 * MAX + 8, { protocols: ['udp'], even: true });

const worker = fork(
  fileURLToPath(new URL('./media-apps/worker.ts', import.meta.url)),
  [String(block.base), String(block.base + block.size - 1), prompt],
  { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
);
if (twoCpus) {
  const { execFileSync } = await import('node:child_process');
  execFileSync(taskset!, ['-pc', '0', String(worker.pid)]);
}
const replies: WorkerReply[] = [];
const waiters: ((r: WorkerReply) => void)[] = [];
worker.on('message', (m: WorkerReply) => {
  const waiter = waiters.shift();
  if (waiter) waiter(m);
  else replies.push(m);
});
function ask<T extends WorkerReply['type']>(
  request: WorkerRequest,
  type: T,
): Promise<Extract<WorkerReply, { type: T }>> {
  worker.send(request);
  return new Promise((resolve, reject) => {
    waiters.push((reply) =>
      reply.type === type
        ? resolve(reply as Extract<WorkerReply, { type: T }>)
        : reject(new Error(`expected ${type}, got ${reply.type}`)),
    );
  });
}

// The phones: a tone every 20 ms to each leg from one timer, counting packets received.
interface Phone {
  socket: Socket;
  port: number;
  target: number;
  received: number;
}
const phones: Phone[] = [];
const phoneCodec = pcmCodecFor({ name: 'PCMU', clockRate: 8000, channels: 1, payloadType: 0 })!;
const tone = Array.from({ length: 50 }, (_, n) =>
  phoneCodec.encode(
    Int16Array.from({ length: 160 }, (_, i) =>
      Math.round(8000 * Math.sin((2 * Math.PI * 700 * (n * 160 + i)) / 8000)),
    ),
  ),
);
/** p50 and p95 (nearest rank). */
function summarize(values: readonly number[]): { p50: number; p95: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
}
let sequence = 0;
let phoneTimer: NodeJS.Timeout | undefined;
function startPhones(): void {
  const start = performance.now();
  let tick = 0;
  const run = () => {
    tick += 1;
    const header = Buffer.alloc(12);
    header[0] = 0x80;
    header[1] = 0;
    header.writeUInt16BE(sequence & 0xffff, 2);
    header.writeUInt32BE((sequence * 160) >>> 0, 4);
    sequence += 1;
    const payload = tone[sequence % tone.length]!;
    for (const phone of phones) {
      header.writeUInt32BE(phone.port, 8);
      phone.socket.send(Buffer.concat([header, payload]), phone.target, '127.0.0.1');
    }
    phoneTimer = setTimeout(run, Math.max(0, start + (tick + 1) * 20 - performance.now()));
  };
  run();
}

const rows: string[] = [];
let previous = 0;
for (const step of STEPS) {
  const add = step - previous;
  previous = step;
  const { ports: legPorts } = await ask({ type: 'open', count: add }, 'opened');
  const fresh: Phone[] = [];
  for (const target of legPorts) {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    const phone: Phone = { socket, port: socket.address().port, target, received: 0 };
    socket.on('message', () => (phone.received += 1));
    fresh.push(phone);
  }
  phones.push(...fresh);
  worker.send({ type: 'aim', ports: fresh.map((p) => p.port) } satisfies WorkerRequest);
  if (!phoneTimer) startPhones();
  const { firstPacketMs } = await ask({ type: 'start' }, 'started');
  // Settle, then hold.
  await new Promise((r) => setTimeout(r, 1000));
  const before = phones.map((p) => p.received);
  const measured = await ask({ type: 'measure', seconds: HOLD }, 'measured');
  const perPhone = phones.map((p, i) => (p.received - before[i]!) / HOLD);
  const { latenciesMs } = await ask({ type: 'dtmf', presses: PRESSES }, 'dtmf');
  const first = summarize(firstPacketMs);
  const keys = summarize(latenciesMs);
  const fewest = Math.min(...perPhone);
  rows.push(
    `| ${step} | ${measured.cpuPercent.toFixed(1)} % | ${(measured.cpuPercent / step).toFixed(3)} % | ${(measured.rssBytes / 2 ** 20).toFixed(0)} MB | ${(measured.eventLoopUtilization * 100).toFixed(0)} % | ${measured.lateTicks} / ${measured.ticks} (${measured.skippedTicks} skipped, max ${measured.maxLatenessMs.toFixed(0)} ms) | ${fewest.toFixed(1)} | ${first.p50.toFixed(1)} / ${first.p95.toFixed(1)} ms | ${keys.p50.toFixed(2)} / ${keys.p95.toFixed(2)} ms |`,
  );
  console.log(rows.at(-1));
}
if (phoneTimer) clearTimeout(phoneTimer);
await ask({ type: 'stop' }, 'stopped');
for (const phone of phones) phone.socket.close();
block.release();

// Per-frame costs, here (one core, nothing else running in this process).
function perFrame(label: string, run: () => void, frames = 20_000): string {
  for (let i = 0; i < 1000; i += 1) run();
  const t0 = performance.now();
  for (let i = 0; i < frames; i += 1) run();
  const us = ((performance.now() - t0) * 1000) / frames;
  return `| ${label} | ${us.toFixed(1)} µs | ${((us / 20_000) * 100).toFixed(3)} % |`;
}
const pcm8 = Int16Array.from({ length: 160 }, (_, i) => Math.round(8000 * Math.sin(i / 3)));
const pcm48 = Int16Array.from({ length: 960 }, (_, i) => Math.round(8000 * Math.sin(i / 18)));
const pcmu = pcmCodecFor({ name: 'PCMU', clockRate: 8000, channels: 1, payloadType: 0 })!;
const opus = pcmCodecFor({ name: 'opus', clockRate: 48000, channels: 2, payloadType: 111 })!;
const ulaw = pcmu.encode(pcm8);
const opusPacket = opus.encode(pcm48);
const up = new Resampler(8000, 16000);
const down = new Resampler(16000, 8000);
const from48 = new Resampler(48000, 8000);
const pcm16 = Int16Array.from({ length: 320 }, (_, i) => Math.round(8000 * Math.sin(i / 6)));
const costs = [
  perFrame('PCMU encode', () => pcmu.encode(pcm8)),
  perFrame('PCMU decode', () => pcmu.decode(ulaw)),
  perFrame('Opus encode (opusscript, complexity 3, 48 kHz mono)', () => opus.encode(pcm48), 3000),
  perFrame('Opus decode (opusscript)', () => opus.decode(opusPacket), 5000),
  perFrame('resample 8 → 16 kHz (feed)', () => up.process(pcm8)),
  perFrame('resample 16 → 8 kHz (flite prompt)', () => down.process(pcm16)),
  perFrame('resample 48 → 8 kHz', () => from48.process(pcm48)),
];
opus.close();

const date = new Date().toISOString().slice(0, 10);
console.log(`
Machine: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}, ${date}. Worker ${twoCpus ? 'pinned to CPU 0, phones on CPU 1' : 'not pinned (one CPU or no taskset)'}; hold ${HOLD} s per step.

| calls | worker CPU | per call | RSS | event loop | late ticks / ticks | fewest packets/s at a phone | first prompt packet p50 / p95 | key → listener p50 / p95 |
|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

| per 20 ms frame | time | of one core per stream |
|---|---|---|
${costs.join('\n')}
`);
