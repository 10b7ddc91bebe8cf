/**
 * A recording survives the gateway's crash: a child process records a leg
 * while we send it a 700 Hz tone over RTP, and is killed with SIGKILL (no
 * exit handler runs). The file must be a valid WAV holding the tone up to
 * about the last second before the kill (the recorder flushes data and
 * header every second).
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { PortAllocator, analyse } from '@parley/testkit';
import { PCMU, tonePackets } from '../src/media/apps/test-leg.js';
import { openTestSocket, sleep } from '../src/media/test-phone.js';

const ports = new PortAllocator();
const root = fileURLToPath(new URL('../..', import.meta.url));
const child = fileURLToPath(new URL('./fixtures/record-child.ts', import.meta.url));
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

it('leaves a playable WAV up to about the last second when the process is killed', async () => {
  const block = await ports.allocate(4, { protocols: ['udp'], even: true });
  cleanups.push(() => block.release());
  const dir = await mkdtemp(join(tmpdir(), 'parley-crash-'));
  const file = join(dir, 'leg.wav');
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', child, String(block.base), String(block.base + 3), file],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  cleanups.push(() => proc.kill('SIGKILL'));
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    proc.once('exit', (_, signal) => resolve(signal)),
  );
  const rtpPort = await new Promise<number>((resolve, reject) => {
    proc.stdout.once('data', (data: Buffer) => {
      try {
        resolve((JSON.parse(data.toString().split('\n')[0]!) as { rtpPort: number }).rtpPort);
      } catch (error) {
        reject(error as Error);
      }
    });
    proc.once('exit', () => reject(new Error('the recording process exited')));
  });
  const phone = await openTestSocket();
  cleanups.push(() => phone.close());
  // 3.5 s of tone at a phone's pace, then the kill while it is still arriving.
  for (const packet of tonePackets(PCMU, 700, 175)) {
    await phone.send(packet, rtpPort);
    await sleep(20);
  }
  proc.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');

  const size = statSync(file).size;
  const recorded = await analyse(file);
  // Flushed at 1, 2 and 3 s of recording: at least two seconds are in the file.
  expect(recorded.seconds).toBeGreaterThanOrEqual(2);
  expect(recorded.seconds).toBeLessThanOrEqual(4);
  // The header says exactly what the file holds (written after the data it counts).
  const header = await readFile(file);
  expect(header.readUInt32LE(40)).toBe(recorded.samples * 2);
  expect(size).toBeGreaterThanOrEqual(44 + recorded.samples * 2);
  expect(Math.abs(recorded.roughFrequencyHz - 700)).toBeLessThan(50);
});
