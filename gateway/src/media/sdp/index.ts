/**
 * A small SDP (RFC 8866, formerly RFC 4566) parser and formatter for the
 * B2BUA, plus the few offer/answer (RFC 3264) operations it needs to anchor
 * media: read a stream's endpoint, rewrite it to ours, hold, version the origin.
 *
 * The model is a list of lines, so what we do not understand survives
 * unchanged and in order. Parsed line kinds: o=, c=, m= and a=rtpmap, fmtp,
 * ptime, rtcp and the four direction attributes; every other line is kept
 * verbatim (an `attribute` or `other` line). Known lines are re-rendered in
 * canonical form (single spaces, no leading zeros), everything else byte for
 * byte, always with CRLF.
 *
 * Strictness: v=0, o=, s= must come first (RFC 8866 §5); session-only types
 * (t=, r=, z=, …) may not follow m=; parsed lines must match their grammar; c=
 * must carry an IP literal (never a host name: resolving a peer-chosen name
 * would leak DNS traffic off the gateway). Anything else is a
 * `ParleyError('bad_request')`, never another exception.
 */
export * from './types.js';
export { parseSdp } from './parse.js';
export { formatSdp } from './format.js';
export { mediaEndpoint, direction, type SdpCodec, type SdpEndpoint } from './read.js';
export {
  setDirection,
  rewriteEndpoint,
  bumpVersion,
  continueOrigin,
  type RewriteOptions,
} from './write.js';
