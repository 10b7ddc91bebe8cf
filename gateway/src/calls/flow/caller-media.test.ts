import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Digit } from '../../flows/ports.js';
import type { DecodedPrompts, MediaApps, PcmSource } from '../../media/apps/index.js';
import type { Call } from '../call.js';
import { CallerMedia } from './caller-media.js';

/** The DTMF listener of the leg: keys by hand, INFO digits injected. */
class FakeDtmf extends EventEmitter {
  readonly injected: string[] = [];
  inject(digit: string): void {
    this.injected.push(digit);
    this.emit('digit', { digit });
  }
}

/** The media applications on the caller's leg: its keys (RFC 4733) and its player, by hand. */
class FakeLegMedia {
  readonly dtmf = new FakeDtmf();
  played: PcmSource[] = [];
  result: { reason: string; error?: Error } = { reason: 'done' };
  play(source: PcmSource): Promise<{ reason: string; error?: Error }> {
    this.played.push(source);
    return Promise.resolve(this.result);
  }
}

function setup(options: { answered?: boolean } = {}) {
  const caller = { media: {} };
  const call = Object.assign(new EventEmitter(), {
    caller,
    router: {},
    gatewayCodec: (options.answered ?? true) ? { codec: { name: 'PCMU' } } : undefined,
  });
  const leg = new FakeLegMedia();
  const attached: unknown[] = [];
  const apps = {
    attach: (_router: unknown, _transport: unknown, codec: unknown) => {
      attached.push(codec);
      return Promise.resolve(leg);
    },
  } as unknown as MediaApps;
  const source = { name: 'prompt' } as unknown as PcmSource;
  const prompts = {
    file: (path: string) =>
      path === 'missing.wav' ? Promise.reject(new Error('ENOENT')) : Promise.resolve(source),
    bytesSource: () => source,
  } as unknown as DecodedPrompts;
  const media = new CallerMedia(call as unknown as Call, apps, prompts);
  const digits: Digit[] = [];
  media.onDigit((d) => digits.push(d));
  return { call, caller, leg, attached, media, digits, source };
}

describe('CallerMedia', () => {
  it('attaches the applications once, with the codec the gateway answered with', async () => {
    const s = setup();
    expect(s.media.attached).toBe(false);
    const [a, b] = await Promise.all([s.media.media(), s.media.media()]);
    expect(a).toBe(b);
    expect(s.media.attached).toBe(true);
    expect(s.attached).toEqual([{ codec: { name: 'PCMU' }, telephoneEvent: undefined }]);
  });

  it('refuses to attach to a caller the gateway did not answer', async () => {
    await expect(setup({ answered: false }).media.media()).rejects.toMatchObject({
      code: 'internal',
    });
  });

  it('merges RFC 4733 keys and SIP INFO into one stream, each press once, upper-cased', async () => {
    const s = setup();
    // INFO before the applications are attached: straight to the listeners.
    s.call.emit('dtmf', '5', s.caller);
    // INFO of another leg (an agent's) is not the caller's.
    s.call.emit('dtmf', '7', {});
    await s.media.media();
    // After: injected into the DTMF listener, which reports it like an RFC 4733 key.
    s.call.emit('dtmf', 'a', s.caller);
    await new Promise((resolve) => setImmediate(resolve)); // the injection waits on the attach's promise
    s.leg.dtmf.emit('digit', { digit: '#' });
    s.leg.dtmf.emit('digit', { digit: 'x' });
    expect(s.leg.dtmf.injected).toEqual(['a']);
    expect(s.digits).toEqual(['5', 'A', '#']);
  });

  it('plays a prompt on the leg; an unreadable one or a player error is prompt_unavailable', async () => {
    const s = setup();
    const signal = new AbortController().signal;
    await s.media.play({ kind: 'file', path: 'hello.wav' }, signal);
    expect(s.leg.played).toEqual([s.source]);
    await expect(s.media.play({ kind: 'file', path: 'missing.wav' }, signal)).rejects.toMatchObject(
      { code: 'prompt_unavailable', detail: expect.stringMatching(/ENOENT/) },
    );
    s.leg.result = { reason: 'error', error: new Error('not a WAV file') };
    await expect(s.media.play({ kind: 'file', path: 'bad.wav' }, signal)).rejects.toMatchObject({
      code: 'prompt_unavailable',
      detail: 'not a WAV file',
    });
  });

  it('plays nothing once the flow is over, and stops listening on request', async () => {
    const s = setup();
    const over = new AbortController();
    over.abort();
    await s.media.play({ kind: 'file', path: 'hello.wav' }, over.signal);
    expect(s.leg.played).toEqual([]);
    const more: Digit[] = [];
    const off = s.media.onDigit((d) => more.push(d));
    off();
    s.call.emit('dtmf', '1', s.caller);
    expect(more).toEqual([]);
  });
});
