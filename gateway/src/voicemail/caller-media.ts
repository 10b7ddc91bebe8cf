/** The media applications voicemail runs on the caller's leg. */
import type { Call, ChosenCodec } from '../calls/index.js';
import type { LegMedia, MediaApps } from '../media/apps/index.js';
import type { Logger } from '../observability/index.js';

/**
 * A flow's own (`flowMedia`: the endpoint is open already), or attached now.
 * Undefined (the call ended `internal`) when they could not be attached.
 */
export async function callerMedia(
  apps: MediaApps,
  call: Call,
  codec: ChosenCodec,
  flowMedia: (() => Promise<LegMedia>) | undefined,
  log: Logger,
): Promise<LegMedia | undefined> {
  const router = call.router;
  const transport = call.caller.media;
  try {
    if (flowMedia) return await flowMedia();
    if (!router || !transport) return undefined;
    const leg = await apps.attach(router, transport, codec);
    // SIP INFO digits (RFC 6086 dtmf-relay) reach the call, not the endpoint.
    call.on('dtmf', (digit, from) => {
      if (from === call.caller) leg.dtmf.inject(digit, 100);
    });
    return leg;
  } catch (error) {
    log.error({ err: error, callId: call.id }, 'voicemail media could not be attached');
    call.end({ outcome: 'failed', endedBy: 'gateway', reason: 'internal' });
    return undefined;
  }
}
