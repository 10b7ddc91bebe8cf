import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Call } from '../call.js';
import type { OutboundLeg } from '../outbound-leg.js';
import type { ChosenCodec } from '../sdp-bridge.js';
import { legBridge, ringLeg } from './leg-bridge.js';

const PCMU: ChosenCodec = {
  codec: { payloadType: 0, name: 'PCMU', clockRate: 8000, channels: 1 },
  telephoneEvent: undefined,
} as ChosenCodec;
const PCMA: ChosenCodec = {
  codec: { payloadType: 8, name: 'PCMA', clockRate: 8000, channels: 1 },
  telephoneEvent: undefined,
} as ChosenCodec;

/** An outbound leg as `ringLeg` drives it: what it was told, and its events by hand. */
class FakeLeg extends EventEmitter {
  started = false;
  cancelled: string | undefined;
  closed: string | undefined;
  aimedAt: unknown;
  media: { kind: 'plain' | 'webrtc' } | undefined = { kind: 'plain' };
  answerCodec: ChosenCodec | undefined = PCMU;
  ended = false;
  end: { reason: string } | undefined;
  start(): void {
    this.started = true;
  }
  cancel(reason: string): void {
    this.cancelled = reason;
  }
  close(reason: string): void {
    this.closed ??= reason;
  }
  aimAt(early: unknown): void {
    this.aimedAt = early;
  }
  acceptAnswer(): Promise<ChosenCodec | undefined> {
    return Promise.resolve(this.answerCodec);
  }
}

/** The call around it: the caller's codec, whether its answer works, what it bridged. */
class FakeCall {
  readonly caller = { webrtc: false };
  ending = false;
  gatewayCodec: ChosenCodec | undefined = PCMU;
  answers = true;
  answeredWith: string[] = [];
  bridged: [unknown, unknown][] = [];
  answerCaller(options: { codec: string }): Promise<boolean> {
    this.answeredWith.push(options.codec);
    return Promise.resolve(this.answers);
  }
  bridge(a: unknown, b: unknown): void {
    this.bridged.push([a, b]);
  }
}

function ring(
  options: { timeoutSeconds?: number; earlyMedia?: boolean; signal?: AbortSignal } = {},
) {
  const call = new FakeCall();
  const leg = new FakeLeg();
  const bridged: unknown[] = [];
  const attempt = ringLeg(call as unknown as Call, leg as unknown as OutboundLeg, {
    timeoutSeconds: options.timeoutSeconds ?? 30,
    signal: options.signal ?? new AbortController().signal,
    answeredBy: 'agent1',
    earlyMedia: options.earlyMedia ?? false,
    onBridged: (l) => bridged.push(l),
  });
  return { call, leg, attempt, bridged };
}

describe('ringLeg', () => {
  it('starts the leg, and a busy or unanswered leg gives busy or no-answer with its SIP status', async () => {
    const busy = ring();
    expect(busy.leg.started).toBe(true);
    busy.leg.emit('failed', { cause: 'busy', status: 486 });
    expect(await busy.attempt).toEqual({ status: 'busy', sipStatus: 486, reason: 'busy' });
    const away = ring();
    away.leg.emit('failed', { cause: 'no_answer', status: 480 });
    expect(await away.attempt).toMatchObject({ status: 'no-answer', sipStatus: 480 });
    const broken = ring();
    broken.leg.emit('failed', { cause: 'unreachable', status: 503 });
    expect(await broken.attempt).toMatchObject({ status: 'failed', reason: 'unreachable' });
  });

  it('cancels the leg at the ring timeout: no-answer (487)', async () => {
    const r = ring({ timeoutSeconds: 0.01 });
    expect(await r.attempt).toEqual({ status: 'no-answer', sipStatus: 487, reason: 'no_answer' });
    expect(r.leg.cancelled).toBe('no_answer');
  });

  it('closes the leg when the flow aborts (the caller left): canceled', async () => {
    const abort = new AbortController();
    const r = ring({ signal: abort.signal });
    abort.abort();
    expect(await r.attempt).toEqual({ status: 'canceled', reason: 'cancelled' });
    expect(r.leg.closed).toBe('cancelled');
  });

  it('answered: the caller is answered with the same codec and bridged to the leg', async () => {
    const r = ring();
    r.leg.emit('answered');
    const attempt = await r.attempt;
    expect(attempt.status).toBe('answered');
    expect(r.call.answeredWith).toEqual(['PCMU']);
    expect(r.call.bridged).toEqual([[r.call.caller, r.leg]]);
    expect(r.bridged).toEqual([r.leg]);
  });

  it('an answer in another codec than the caller’s is refused (no transcoding): failed', async () => {
    const r = ring();
    r.leg.answerCodec = PCMA;
    r.leg.emit('answered');
    expect(await r.attempt).toEqual({ status: 'failed', reason: 'offer_required' });
    expect(r.leg.closed).toBe('offer_required');
    expect(r.call.bridged).toEqual([]);
  });

  it('the caller gone while the leg answers: canceled, the leg closed', async () => {
    const r = ring();
    r.call.answers = false;
    r.leg.emit('answered');
    expect(await r.attempt).toEqual({ status: 'canceled', reason: 'caller_hangup' });
    expect(r.leg.closed).toBe('cancelled');
  });

  it('a leg that answers after the timeout is closed at once', async () => {
    const r = ring({ timeoutSeconds: 0.01 });
    await r.attempt;
    r.leg.emit('answered');
    expect(r.leg.closed).toBe('cancelled');
    expect(r.call.answeredWith).toEqual([]);
  });

  it('passes a plain RTP party’s early media to a SIP caller only when asked', async () => {
    const early = { sdp: 'early' };
    const quiet = ring();
    quiet.leg.emit('progress', {}, early);
    expect(quiet.call.bridged).toEqual([]);
    const heard = ring({ earlyMedia: true });
    heard.leg.emit('progress', {}, early);
    expect(heard.leg.aimedAt).toBe(early);
    expect(heard.call.bridged).toEqual([[heard.call.caller, heard.leg]]);
    for (const r of [quiet, heard]) r.leg.emit('failed', { cause: 'busy', status: 486 });
    expect((await Promise.all([quiet.attempt, heard.attempt])).map((a) => a.status)).toEqual([
      'busy',
      'busy',
    ]);
  });

  it('a leg that ends before any answer: failed, or canceled when the call is ending', async () => {
    const r = ring();
    r.leg.emit('ended', { cause: 'remote', reason: 'normal_clearing' });
    expect(await r.attempt).toEqual({ status: 'failed', reason: 'normal_clearing' });
    const e = ring();
    e.call.ending = true;
    e.leg.emit('ended', { cause: 'local', reason: 'caller_hangup' });
    expect(await e.attempt).toEqual({ status: 'canceled', reason: 'caller_hangup' });
  });
});

describe('legBridge', () => {
  it('says who hung up: the target, the caller (the call is ending) or the gateway', async () => {
    const call = new FakeCall();
    const leg = new FakeLeg();
    const signal = new AbortController().signal;
    const target = legBridge(call as unknown as Call, leg as unknown as OutboundLeg, 'a', signal);
    leg.emit('ended', { by: 'remote', reason: 'normal_clearing' });
    expect(await target.ended).toEqual({ by: 'target', reason: 'normal_clearing' });
    expect(target.answeredBy).toBe('a');

    const leg2 = new FakeLeg();
    const gw = legBridge(call as unknown as Call, leg2 as unknown as OutboundLeg, 'a', signal);
    leg2.emit('ended', { by: 'local', reason: 'time_limit' });
    expect(await gw.ended).toEqual({ by: 'gateway', reason: 'time_limit' });

    const leg3 = new FakeLeg();
    call.ending = true;
    const caller = legBridge(call as unknown as Call, leg3 as unknown as OutboundLeg, 'a', signal);
    leg3.emit('ended', { by: 'local', reason: 'caller_hangup' });
    expect(await caller.ended).toEqual({ by: 'caller', reason: 'caller_hangup' });
  });

  it('a leg already over ends the bridge at once; the flow ending closes the leg', async () => {
    const call = new FakeCall();
    const over = new FakeLeg();
    over.ended = true;
    over.end = { reason: 'busy_here' };
    const signal = new AbortController().signal;
    const b = legBridge(call as unknown as Call, over as unknown as OutboundLeg, 'a', signal);
    expect(await b.ended).toEqual({ by: 'target', reason: 'busy_here' });

    const abort = new AbortController();
    const leg = new FakeLeg();
    const live = legBridge(
      call as unknown as Call,
      leg as unknown as OutboundLeg,
      'a',
      abort.signal,
    );
    abort.abort();
    expect(leg.closed).toBe('normal_clearing');
    live.hangup('time_limit');
    expect(leg.closed).toBe('normal_clearing');
  });
});
