/**
 * Ringing one outbound leg for a flow's `dial` and, once it answers, the
 * bridge with the caller: the outcome mapped to the verb's statuses
 * (answered, busy, no-answer, failed, canceled), early media (a 183 with SDP
 * from a plain RTP party) piped to the caller while it rings, the caller's
 * 183 turned into a 200 on the answer, and the bridge's end (who hung up).
 */
import type { Bridge, DialAttempt } from '../../flows/ports.js';
import type { Call } from '../call.js';
import type { OutboundLeg } from '../outbound-leg.js';
import { sameCodec } from '../sdp-bridge.js';

export interface RingOptions {
  readonly timeoutSeconds: number;
  readonly signal: AbortSignal;
  /** Who answered, for the result (agent id, number, URI). */
  readonly answeredBy: string;
  /** A plain RTP party's early media reaches the caller (not for agents rung from a queue). */
  readonly earlyMedia: boolean;
  /** Called once the leg answered and was bridged (an agent becomes busy). */
  readonly onBridged?: (leg: OutboundLeg) => void;
}

/** Starts `leg` (made, adopted by the call, not started) and settles when it is decided. */
export function ringLeg(call: Call, leg: OutboundLeg, options: RingOptions): Promise<DialAttempt> {
  return new Promise<DialAttempt>((resolve) => {
    let settled = false;
    const settle = (attempt: DialAttempt): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      resolve(attempt);
    };
    const onAbort = (): void => {
      leg.close('cancelled');
      settle({ status: 'canceled', reason: 'cancelled' });
    };
    const timer = setTimeout(() => {
      leg.cancel('no_answer');
      settle({ status: 'no-answer', sipStatus: 487, reason: 'no_answer' });
    }, options.timeoutSeconds * 1000);
    options.signal.addEventListener('abort', onAbort, { once: true });
    leg.on('progress', (_response, early) => {
      if (!early || !options.earlyMedia || settled) return;
      // A browser is bridged once answered (the flow's dial answers it as the dial starts):
      // its transport carries nothing before (dial-phone.ts pipes a carrier's the same way).
      if (call.caller.webrtc && call.caller.state !== 'answered') return;
      if (leg.media?.kind !== 'plain') return;
      leg.aimAt(early);
      call.bridge(call.caller, leg);
    });
    leg.on('failed', (failure) =>
      settle({
        status:
          failure.cause === 'busy'
            ? 'busy'
            : failure.cause === 'no_answer'
              ? 'no-answer'
              : 'failed',
        sipStatus: failure.status,
        reason: failure.cause,
      }),
    );
    leg.on('ended', (end) => {
      if (!settled && end.cause !== 'failed')
        settle({ status: call.ending ? 'canceled' : 'failed', reason: end.reason });
    });
    leg.on('answered', () => {
      if (settled) {
        leg.close('cancelled'); // answered after our timeout or abort
        return;
      }
      void connect(call, leg, options).then(settle, (error: unknown) => {
        leg.close('offer_required');
        settle({ status: 'failed', reason: error instanceof Error ? error.message : 'failed' });
      });
    });
    leg.start();
  });
}

/** The answered leg's media, the caller's answer (200), the bridge. */
export async function connect(
  call: Call,
  leg: OutboundLeg,
  options: Pick<RingOptions, 'answeredBy' | 'signal' | 'onBridged'>,
): Promise<DialAttempt> {
  const codec = await leg.acceptAnswer();
  const gateway = call.gatewayCodec;
  if (!gateway || !sameCodec(codec, gateway)) {
    leg.close('offer_required');
    return { status: 'failed', reason: 'offer_required' };
  }
  if (!(await call.answerCaller({ codec: gateway.codec.name })) || call.ending) {
    leg.close('cancelled');
    return { status: 'canceled', reason: 'caller_hangup' };
  }
  call.bridge(call.caller, leg);
  options.onBridged?.(leg);
  return { status: 'answered', bridge: legBridge(call, leg, options.answeredBy, options.signal) };
}

/** The conversation with an answered leg, until one side hangs up or the flow ends it. */
export function legBridge(
  call: Call,
  leg: OutboundLeg,
  answeredBy: string,
  signal: AbortSignal,
): Bridge {
  const ended = new Promise<{ by: 'caller' | 'target' | 'gateway'; reason: string }>((resolve) => {
    const onAbort = (): void => leg.close('normal_clearing');
    signal.addEventListener('abort', onAbort, { once: true });
    const done = (by: 'caller' | 'target' | 'gateway', reason: string): void => {
      signal.removeEventListener('abort', onAbort);
      resolve({ by, reason });
    };
    if (leg.ended) done(call.ending ? 'caller' : 'target', leg.end?.reason ?? 'ended');
    else
      leg.once('ended', (end) =>
        done(call.ending ? 'caller' : end.by === 'remote' ? 'target' : 'gateway', end.reason),
      );
  });
  return {
    answeredBy,
    ended,
    hangup: (reason) => leg.close(reason),
  };
}
