/**
 * What one call attempt of the CallClient owns (microphone, tone, user agent,
 * session, data channel), so that it is released together when the attempt
 * ends and late events of an old attempt can be told apart.
 */
import { MESSAGE_BURST, MESSAGE_RATE_PER_SECOND } from '@parley/shared/protocol';
import { HANGUP_GRACE_MS } from './defaults.js';
import { TokenBucket } from './rate-limiter.js';
import type { RebindLink } from './rebind-steps.js';
import type { Tone } from './ringback.js';
import type { SipSession, SipUserAgent } from './sip-stack.js';

export class Attempt implements RebindLink {
  over = false;
  /** The WebSocket is up (a later close is `network_lost`). */
  connected = false;
  /** The WebSocket closed after it opened and before the INVITE (while the prompt was up). */
  droppedEarly = false;
  stream: MediaStream | undefined;
  userAgent: SipUserAgent | undefined;
  session: SipSession | undefined;
  channel: RTCDataChannel | undefined;
  channelOpen = false;
  tone: Tone | undefined;
  /** Stops watching the call's ICE (restarts on a network change). */
  stopIceWatch: (() => void) | undefined;
  /** The gateway's rebind key (its 200 OK): a dropped WebSocket can bring the call back. */
  rebindKey: string | undefined;
  /** Set while a reconnect runs: the WebSocket dropped again under it. */
  onDrop: (() => void) | undefined;
  readonly abort = new AbortController();
  readonly bucket: TokenBucket;

  constructor(now: () => number) {
    this.bucket = new TokenBucket(MESSAGE_RATE_PER_SECOND, MESSAGE_BURST, now);
  }

  /**
   * Releases what the attempt holds; never rejects. `onChannelClosed` runs
   * when the data channel was open (the client tells its listeners).
   */
  async release(onChannelClosed: () => void): Promise<void> {
    this.abort.abort();
    this.stopIceWatch?.();
    this.tone?.stop();
    if (this.channelOpen) {
      this.channelOpen = false;
      onChannelClosed();
    }
    this.channel?.close();
    // Let sip.js finish the handler that ended the call first: a BYE's
    // delegate runs before sip.js terminates the session, and a bye() of ours
    // in between would terminate it twice (api/session.js onByeRequest throws).
    await Promise.resolve();
    const session = this.session;
    if (session && this.connected) {
      try {
        if (session.state === 'Initial' || session.state === 'Establishing') await session.cancel();
        else if (session.state === 'Established') await session.bye();
      } catch {
        // already ending
      }
      // After a CANCEL, the 487 still needs our ACK: keep the WebSocket a moment.
      await terminated(session, HANGUP_GRACE_MS);
    }
    try {
      await this.userAgent?.stop();
    } catch {
      // the transport was gone already
    }
    stopTracks(this.stream);
  }
}

export function stopTracks(stream: MediaStream | undefined): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}

/** Resolves when the session is Terminated, or after `timeoutMs`. */
function terminated(session: SipSession, timeoutMs: number): Promise<void> {
  if (session.state === 'Terminated') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    session.onStateChange((state) => {
      if (state !== 'Terminated') return;
      clearTimeout(timer);
      resolve();
    });
  });
}
