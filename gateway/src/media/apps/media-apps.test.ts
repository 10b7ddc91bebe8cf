import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { analyse } from '@parley/testkit';
import { parseRtp } from '../rtp-packet.js';
import { MediaApps } from './media-apps.js';
import { tone, wavFile } from './sources.js';
import {
  EVENTS,
  PCMA,
  PCMU,
  levelAt,
  openTestLeg,
  peakLevelAt,
  receivedPcm,
  sendPaced,
  tonePackets,
  until,
  type TestLeg,
} from './test-leg.js';
import { wavHeader } from './wav.js';

const logger = pino({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(): Promise<{ apps: MediaApps; leg: TestLeg; dir: string }> {
  const apps = new MediaApps({ logger });
  cleanups.push(() => apps.close());
  const leg = await openTestLeg();
  cleanups.push(() => leg.close());
  const dir = await mkdtemp(join(tmpdir(), 'parley-apps-'));
  return { apps, leg, dir };
}

describe('player', () => {
  it.each([PCMU, PCMA])(
    'plays a tone on a %s leg: every frame, in one stream, at its frequency',
    async (codec) => {
      const { apps, leg } = await setup();
      const media = await apps.attach(leg.router, leg.transport, { codec });
      const result = await media.play(tone({ frequencyHz: 1000, durationMs: 400 }));
      expect(result).toMatchObject({ reason: 'done', playedMs: 400, underruns: 0 });
      await leg.phone.waitFor(20);
      const views = leg.phone.received.map((r) => parseRtp(r.data)!);
      expect(views).toHaveLength(20);
      expect(views[0]!.marker).toBe(true);
      for (let i = 1; i < views.length; i += 1) {
        expect(views[i]!.sequenceNumber).toBe((views[i - 1]!.sequenceNumber + 1) & 0xffff);
        expect(views[i]!.timestamp).toBe((views[i - 1]!.timestamp + 160) >>> 0);
        expect(views[i]!.ssrc).toBe(views[0]!.ssrc);
        expect(views[i]!.payloadType).toBe(codec.payloadType);
      }
      const pcm = receivedPcm(leg.phone, codec);
      expect(levelAt(pcm, 8000, 1000)).toBeGreaterThan(12000);
      expect(levelAt(pcm, 8000, 1500)).toBeLessThan(200);
    },
  );

  it('plays a 16 kHz stereo WAV resampled to the leg, and loops until aborted', async () => {
    const { apps, leg, dir } = await setup();
    // 200 ms of 600 Hz, stereo 16-bit at 16 kHz.
    const frames = 3200;
    const data = Buffer.alloc(frames * 4);
    for (let i = 0; i < frames; i += 1) {
      const v = Math.round(10000 * Math.sin((2 * Math.PI * 600 * i) / 16000));
      data.writeInt16LE(v, i * 4);
      data.writeInt16LE(v, i * 4 + 2);
    }
    const path = join(dir, 'prompt.wav');
    const header = wavHeader(16000, 2, data.length);
    await writeFile(path, Buffer.concat([header, data]));
    const media = await apps.attach(leg.router, leg.transport, { codec: PCMU });
    const controller = new AbortController();
    const playing = media.play(wavFile(path), { loop: true, signal: controller.signal });
    // Three passes of the file: it looped.
    await leg.phone.waitFor(30, 5000);
    controller.abort();
    const result = await playing;
    expect(result.reason).toBe('aborted');
    expect(result.playedMs).toBeGreaterThanOrEqual(600);
    const pcm = receivedPcm(leg.phone, PCMU);
    expect(levelAt(pcm, 8000, 600)).toBeGreaterThan(8000);
  });

  it('reports a file it cannot read as an error and the leg plays on', async () => {
    const { apps, leg, dir } = await setup();
    const media = await apps.attach(leg.router, leg.transport, { codec: PCMU });
    const missing = await media.play(wavFile(join(dir, 'missing.wav')));
    expect(missing.reason).toBe('error');
    expect(missing.error?.message).toMatch(/ENOENT/);
    const junk = join(dir, 'junk.wav');
    await writeFile(junk, 'this is not a wav file at all');
    const bad = await media.play(wavFile(junk));
    expect(bad).toMatchObject({ reason: 'error' });
    expect(bad.error?.message).toMatch(/RIFF/);
    expect((await media.play(tone({ frequencyHz: 440, durationMs: 100 }))).reason).toBe('done');
    await leg.phone.waitFor(5);
  });

  it('a new player replaces the one playing, and closing the leg ends them', async () => {
    const { apps, leg } = await setup();
    const media = await apps.attach(leg.router, leg.transport, { codec: PCMU });
    const music = media.play(tone({ frequencyHz: 440 }));
    const prompt = media.startPlayer(tone({ frequencyHz: 880 }));
    expect((await music).reason).toBe('replaced');
    await leg.phone.waitFor(3);
    leg.transport.close();
    expect((await prompt.done).reason).toBe('closed');
    expect(media.closed).toBe(true);
    expect(apps.legs).toBe(0);
  });

  it('refuses a codec it cannot speak', async () => {
    const { apps, leg } = await setup();
    await expect(
      apps.attach(leg.router, leg.transport, {
        codec: { name: 'G722', clockRate: 8000, channels: 1, payloadType: 9 },
      }),
    ).rejects.toThrow(/cannot speak G722/);
  });
});

describe('recorder', () => {
  it('records what the phone sent, what it was sent, and both mixed', async () => {
    const { apps, leg, dir } = await setup();
    const media = await apps.attach(leg.router, leg.transport, { codec: PCMA });
    const files = {
      in: join(dir, 'in.wav'),
      out: join(dir, 'out.wav'),
      mixed: join(dir, 'mix.wav'),
    };
    const recorder = media.record({ files });
    const playing = media.play(tone({ frequencyHz: 1200, durationMs: 1000 }));
    await sendPaced(leg.phone, leg.transport.rtpPort, tonePackets(PCMA, 700, 50));
    await playing;
    const result = await recorder.stop();
    expect(result.reason).toBe('stopped');
    expect(result.durationMs).toBeGreaterThan(900);
    const heard = await analyse(files.in);
    const said = await analyse(files.out);
    const mixed = await analyse(files.mixed);
    expect(heard.roughFrequencyHz).toBeGreaterThan(650);
    expect(heard.roughFrequencyHz).toBeLessThan(750);
    expect(said.roughFrequencyHz).toBeGreaterThan(1100);
    expect(said.roughFrequencyHz).toBeLessThan(1300);
    // Both tones in the mix.
    const pcm = new Int16Array((await readFile(files.mixed)).buffer.slice(44));
    expect(peakLevelAt(pcm, 8000, 700)).toBeGreaterThan(2000);
    expect(peakLevelAt(pcm, 8000, 1200)).toBeGreaterThan(2000);
    expect(mixed.seconds).toBeCloseTo(result.durationMs / 1000, 1);
  });

  it('ends with an error when a file cannot be written, and the leg goes on', async () => {
    const { apps, leg, dir } = await setup();
    const media = await apps.attach(leg.router, leg.transport, { codec: PCMU });
    const unwritable = await media.record({ files: { in: join(dir, 'no', 'such', 'dir.wav') } })
      .done;
    expect(unwritable.reason).toBe('error');
    expect(unwritable.error?.message).toMatch(/ENOENT/);
    // A full disk: /dev/full takes the open and fails every write with ENOSPC.
    const full = media.record({ files: { in: '/dev/full' } });
    await sendPaced(leg.phone, leg.transport.rtpPort, tonePackets(PCMU, 700, 5));
    const result = await full.done;
    expect(result.reason).toBe('error');
    expect(result.error?.message).toMatch(/ENOSPC/);
    expect((await media.play(tone({ frequencyHz: 440, durationMs: 60 }))).reason).toBe('done');
  });

  it('ends on the peer falling silent after it spoke', async () => {
    const { apps, leg, dir } = await setup();
    const media = await apps.attach(leg.router, leg.transport, { codec: PCMU });
    const recorder = media.record({
      files: { in: join(dir, 'vm.wav') },
      endOnSilence: { afterMs: 300 },
    });
    await sendPaced(leg.phone, leg.transport.rtpPort, tonePackets(PCMU, 500, 10));
    expect((await recorder.done).reason).toBe('silence');
  });
});

describe('DTMF listener', () => {
  /** RFC 4733 packets for one key press: updates every 50 ms, then the end three times. */
  function press(event: number, timestamp: number, seq: number, updates = 3): Buffer[] {
    const packets: Buffer[] = [];
    const make = (end: boolean, duration: number, marker: boolean) => {
      const p = Buffer.alloc(16);
      p[0] = 0x80;
      p[1] = (marker ? 0x80 : 0) | 101;
      p.writeUInt16BE(seq++ & 0xffff, 2);
      p.writeUInt32BE(timestamp, 4);
      p.writeUInt32BE(0xd7f, 8);
      p[12] = event;
      p[13] = (end ? 0x80 : 0) | 10;
      p.writeUInt16BE(duration, 14);
      return p;
    };
    for (let i = 1; i <= updates; i += 1) packets.push(make(false, i * 400, i === 1));
    for (let i = 0; i < 3; i += 1) packets.push(make(true, (updates + 1) * 400, false));
    return packets;
  }

  it('reports each key once, in order, with its duration, and injected INFO digits in the same stream', async () => {
    const { apps, leg } = await setup();
    const media = await apps.attach(leg.router, leg.transport, {
      codec: PCMU,
      telephoneEvent: EVENTS,
    });
    const digits: string[] = [];
    const durations: number[] = [];
    const keydowns: string[] = [];
    media.dtmf.on('digit', (d) => {
      digits.push(`${d.digit}:${d.source}`);
      durations.push(d.durationMs);
    });
    media.dtmf.on('keydown', (k) => keydowns.push(k.digit));
    const port = leg.transport.rtpPort;
    for (const p of press(5, 1000, 1)) await leg.phone.send(p, port);
    for (const p of press(11, 5000, 10)) await leg.phone.send(p, port);
    // The same key twice in a row is two presses (two start timestamps).
    for (const p of press(11, 9000, 20)) await leg.phone.send(p, port);
    await until(() => digits.length === 3, 'three digits');
    expect(media.dtmf.inject('7', 120)).toBe(true);
    expect(media.dtmf.inject('x', 120)).toBe(false);
    expect(digits).toEqual(['5:rfc4733', '#:rfc4733', '#:rfc4733', '7:info']);
    expect(durations).toEqual([200, 200, 200, 120]);
    expect(keydowns).toEqual(['5', '#', '#']);
  });

  it('reports a key whose end packets were lost when the next one starts', async () => {
    const { apps, leg } = await setup();
    const media = await apps.attach(leg.router, leg.transport, {
      codec: PCMU,
      telephoneEvent: EVENTS,
    });
    const digits: string[] = [];
    media.dtmf.on('digit', (d) => digits.push(d.digit));
    const port = leg.transport.rtpPort;
    for (const p of press(1, 1000, 1).slice(0, 3)) await leg.phone.send(p, port);
    for (const p of press(2, 4000, 10)) await leg.phone.send(p, port);
    await until(() => digits.length === 2, 'two digits');
    expect(digits).toEqual(['1', '2']);
  });
});

describe('PCM feed', () => {
  it('gives 16 kHz audio of what the phone said', async () => {
    const { apps, leg } = await setup();
    const media = await apps.attach(leg.router, leg.transport, { codec: PCMU });
    const feed = media.feed({ highBandNoise: false });
    const chunks: Buffer[] = [];
    feed.readable.on('data', (c: Buffer) => chunks.push(c));
    await sendPaced(leg.phone, leg.transport.rtpPort, tonePackets(PCMU, 900, 25));
    await until(() => Buffer.concat(chunks).length >= 16000 * 2 * 0.6, '600 ms of feed');
    feed.close();
    const bytes = Buffer.concat(chunks);
    const pcm = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
    expect(feed.sampleRate).toBe(16000);
    expect(peakLevelAt(pcm, 16000, 900)).toBeGreaterThan(3000);
  });

  it('drops frames instead of buffering without bound when nobody reads', async () => {
    const { apps, leg } = await setup();
    const media = await apps.attach(leg.router, leg.transport, { codec: PCMU });
    const feed = media.feed({ maxBufferedMs: 100 });
    await until(() => feed.droppedFrames > 3, 'frames dropped');
    expect(feed.readable.readableLength).toBeLessThanOrEqual(16000 * 2 * 0.12);
    feed.close();
    expect(feed.closed).toBe(true);
  });
});

describe('a closed leg', () => {
  it('ends new players, recorders and feeds at once', async () => {
    const { apps, leg, dir } = await setup();
    const media = await apps.attach(leg.router, leg.transport, { codec: PCMU });
    media.close();
    expect((await media.play(wavFile(join(dir, 'missing.wav')))).reason).toBe('closed');
    expect((await media.record({ files: { in: join(dir, 'x.wav') } }).done).reason).toBe('closed');
    expect(media.feed().closed).toBe(true);
  });
});
