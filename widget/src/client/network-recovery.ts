/**
 * Keeping an attempt's call through network trouble, for the CallClient:
 * once the call is established its peer connection's ICE is watched and
 * restarted when the media path breaks (`ice-restart.ts`); when the
 * WebSocket drops mid-call: "Reconnecting…", then the WebSocket again and
 * the rebind re-INVITE (`reconnect.ts` over `rebind-steps.ts`), back
 * `in-call` or an error with the reason. A drop at any other time is
 * `network_lost`.
 */
import type { CallStateChange } from '../api/call-stack.js';
import type { CallState } from '../api/call-state.js';
import type { Attempt } from './attempt.js';
import { describe, type Failure } from './failure.js';
import { statsProbe, watchIce } from './ice-restart.js';
import { RECONNECT_DEFAULTS, reconnect, type ReconnectPolicy } from './reconnect.js';
import { rebindSteps } from './rebind-steps.js';
import type { SipSession } from './sip-stack.js';

/** What recovery needs of the CallClient. */
export interface RecoveryHost {
  /** The client's state now. */
  state(): CallState;
  transition(change: CallStateChange): void;
  fail(attempt: Attempt, failure: Failure): void;
  /** The element's reconnect options, over `RECONNECT_DEFAULTS`. */
  readonly policy: Partial<ReconnectPolicy> | undefined;
}

/** The call is established: its ICE is restarted when the media path breaks. */
export function watchAttemptIce(attempt: Attempt): void {
  const session = attempt.session;
  const peer = session?.peerConnection();
  if (session && peer && !attempt.stopIceWatch) {
    attempt.stopIceWatch = watchIce(peer, {
      // Without a WebSocket the re-INVITE could not leave (and sip.js would
      // end the dialog on its transport error): the rebind restarts ICE then.
      restart: () => (attempt.connected ? session.restartIce() : Promise.resolve()),
      online: typeof window === 'undefined' ? undefined : window,
      probe: statsProbe(peer),
    });
  }
}

/** The attempt's WebSocket dropped (sip.js `onDisconnect`). */
export function webSocketDropped(
  host: RecoveryHost,
  attempt: Attempt,
  error: Error | undefined,
): void {
  if (!attempt.connected) {
    // Before the INVITE: start() rejects (handled there), or it had opened and
    // the visitor is still at the microphone prompt (`reopenIfDropped`).
    attempt.droppedEarly = true;
    return;
  }
  attempt.connected = false;
  if (attempt.onDrop) return attempt.onDrop();
  if (
    !attempt.over &&
    host.state() === 'in-call' &&
    attempt.rebindKey !== undefined &&
    attempt.session?.state === 'Established'
  ) {
    void rebind(host, attempt, attempt.session, attempt.rebindKey);
    return;
  }
  host.fail(attempt, {
    code: 'network_lost',
    message: describe('network_lost', error ?? 'WebSocket closed'),
  });
}

/**
 * The WebSocket dropped mid-call: "Reconnecting…", then the WebSocket again
 * and the rebind re-INVITE (`reconnect.ts`), with an ICE restart when the
 * media went down too; back `in-call`, or an error with the reason.
 */
async function rebind(
  host: RecoveryHost,
  attempt: Attempt,
  session: SipSession,
  key: string,
): Promise<void> {
  const userAgent = attempt.userAgent;
  if (!userAgent) return;
  host.transition({ state: 'reconnecting' });
  const outcome = await reconnect(
    rebindSteps(userAgent, session, key, attempt),
    attempt.abort.signal,
    { ...RECONNECT_DEFAULTS, ...host.policy },
  );
  if (attempt.over || (!outcome.ok && outcome.code === 'aborted')) return;
  if (outcome.ok) {
    host.transition({ state: 'in-call' });
    return;
  }
  host.fail(attempt, { code: outcome.code, message: describe(outcome.code, 'reconnect') });
}
