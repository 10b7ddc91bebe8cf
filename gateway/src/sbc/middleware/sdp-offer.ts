import { mediaEndpoint, parseSdp } from '../../media/index.js';
import type { InviteMiddleware } from '../invite-pipeline.js';

/** The INVITE must carry an SDP offer with an audio stream (no late offer). */
export const sdpOffer: InviteMiddleware = ({ invite }) => {
  const type = (invite.contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/sdp' || invite.body.length === 0) {
    return { code: 'offer_required', detail: 'no SDP body' };
  }
  try {
    const sdp = parseSdp(invite.body.toString('utf8'));
    const audio = sdp.media.findIndex((m) => m.media === 'audio');
    const endpoint = audio >= 0 ? mediaEndpoint(sdp, audio) : undefined;
    if (!endpoint || endpoint.rejected)
      return { code: 'offer_required', detail: 'no audio stream' };
  } catch {
    return { code: 'offer_required', detail: 'unparseable SDP' };
  }
  return undefined;
};
