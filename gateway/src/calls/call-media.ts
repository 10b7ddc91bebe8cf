/**
 * A call's media: its one media router (every leg's transport on it) and the
 * caller's transport, made once, on first need. A router that hears nothing
 * for `mediaInactivityMs` ends a call whose media matters (answered, or
 * answered by the gateway); a browser caller's data channel reports to the call.
 */
import type { EventEmitter } from 'node:events';
import type { MediaRouter } from '../media/index.js';
import type { Logger } from '../observability/index.js';
import type { CallEnd } from './call-record.js';
import type { CallDeps, CallEvents } from './call-types.js';
import type { InboundLeg } from './inbound-leg.js';

/** What the media needs of its call. @internal */
export interface CallMediaHost {
  readonly callId: string;
  readonly deps: Pick<CallDeps, 'media' | 'mediaInactivityMs'>;
  readonly caller: InboundLeg;
  readonly log: Logger;
  readonly events: Pick<EventEmitter<CallEvents>, 'emit'>;
  /** Whether silence ends the call now (answered, or answered by the gateway). */
  silenceEnds(): boolean;
  ending(): boolean;
  end(how: CallEnd): void;
}

export class CallMedia {
  readonly #host: CallMediaHost;
  #setUp: Promise<boolean> | undefined;
  #router: MediaRouter | undefined;

  constructor(host: CallMediaHost) {
    this.#host = host;
  }

  get router(): MediaRouter | undefined {
    return this.#router;
  }

  /** The router and the caller's media transport (once; false when the call ended instead). */
  setUp(): Promise<boolean> {
    return (this.#setUp ??= this.#create());
  }

  close(): void {
    this.#router?.close();
  }

  async #create(): Promise<boolean> {
    const host = this.#host;
    try {
      const router = host.deps.media.createRouter({
        callId: host.callId,
        inactivityTimeoutMs: host.deps.mediaInactivityMs,
      });
      this.#router = router;
      router.on('inactive', ({ transportId }) => {
        if (!host.silenceEnds()) return;
        host.log.warn({ transportId }, 'media stopped: ending the call');
        host.end({ outcome: 'answered', endedBy: 'gateway', reason: 'media_timeout' });
      });
      const media = await host.caller.openMedia(router, 'visitor');
      if (media.kind === 'webrtc') {
        media.on('message', (text) => host.events.emit('visitorMessage', text));
        media.on('dataChannelOpen', () => host.events.emit('dataChannelOpen'));
      }
      return !host.ending();
    } catch (error) {
      host.log.error({ err: error }, 'media could not be set up');
      host.end({ outcome: 'failed', endedBy: 'gateway', reason: 'media_ports_exhausted' });
      return false;
    }
  }
}
