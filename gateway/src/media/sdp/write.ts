/** What the B2BUA writes: SDP pointed at our media, directions, origin versions (RFC 3264). */
import { isIP } from 'node:net';
import { ParleyError } from '@parley/shared/errors';
import { formatSdp } from './format.js';
import { direction, isOldHold } from './read.js';
import type { Sdp, SdpAddressType, SdpConnection, SdpDirection, SdpLine } from './types.js';

/** Sets the direction of media section `index`, or of every section (dropping the session-level one). */
export function setDirection(sdp: Sdp, value: SdpDirection, index?: number): Sdp {
  if (index !== undefined && sdp.media[index] === undefined) {
    throw new ParleyError('internal', `sdp has no media section ${index}`);
  }
  const line: SdpLine = { kind: 'direction', direction: value };
  return {
    ...sdp,
    session: index === undefined ? sdp.session.filter((l) => l.kind !== 'direction') : sdp.session,
    media: sdp.media.map((m, i) =>
      index === undefined || i === index
        ? { ...m, lines: replaceAll(m.lines, 'direction', line) }
        : m,
    ),
  };
}

/**
 * Replaces every line of `kind` with one `replacement` at the first one's place
 * (appended when there was none).
 */
function replaceAll(
  lines: readonly SdpLine[],
  kind: SdpLine['kind'],
  replacement: SdpLine,
): SdpLine[] {
  const out: SdpLine[] = [];
  let placed = false;
  for (const line of lines) {
    if (line.kind !== kind) out.push(line);
    else if (!placed) {
      out.push(replacement);
      placed = true;
    }
  }
  if (!placed) out.push(replacement);
  return out;
}

/**
 * Attributes that would tell one leg about the other leg's network: ICE (RFC
 * 8839) candidates and credentials. A plain relay transport answers no STUN, so
 * ICE could not work through it anyway. BUNDLE (RFC 8843) groups go too: the
 * relay anchors each m= section on its own port pair, so the ends must not
 * bundle (without the group, an offerer falls back to one port per section).
 */
function leaksTopology(line: SdpLine): boolean {
  if (line.kind !== 'attribute') return false;
  const name = line.name.toLowerCase();
  return (
    // The other side's software and version (`a=tool:baresip 1.0.0`) and its
    // RTCP CNAME (`a=ssrc:… cname:sip:agent1@pbx.example`, often an address
    // of record): an SBC hides who is behind it, not only where.
    name === 'tool' ||
    name === 'ssrc' ||
    name === 'ssrc-group' ||
    name === 'candidate' ||
    name === 'remote-candidates' ||
    name === 'end-of-candidates' ||
    name.startsWith('ice-') ||
    name === 'bundle-only' ||
    (name === 'group' && /^BUNDLE( |$)/i.test(line.value ?? ''))
  );
}

export interface RewriteOptions {
  /** Increment the o= session version (the content changed since the last SDP sent on this leg). */
  readonly bumpVersion?: boolean;
}

/**
 * Points media section `index` at our transport: the m= port, the c= lines
 * (media level, and session level too, so no c= keeps the other side's
 * address; a section that relied on the session c= now reads ours — rewrite
 * or reject every section you forward), a=rtcp (added only when RTCP is not on
 * rtpPort + 1), and the o= address (the other side's address again). ICE and
 * BUNDLE attributes, a=tool and a=ssrc (CNAMEs) are dropped at both levels
 * ({@link leaksTopology}).
 *
 * Kept: a=rtcp-mux (and rtcp-mux-only). The relay forwards RTP-port to
 * RTP-port and RTCP-port to RTCP-port, so it carries multiplexed and separate
 * RTCP alike; whether to multiplex stays negotiated between the two ends.
 *
 * An old-style hold (c=0.0.0.0 without ICE) becomes the explicit direction it
 * meant, since the rewritten c= is a real address.
 */
export function rewriteEndpoint(
  sdp: Sdp,
  index: number,
  endpoint: { readonly address: string; readonly rtpPort: number; readonly rtcpPort: number },
  options: RewriteOptions = {},
): Sdp {
  const m = sdp.media[index];
  if (m === undefined) throw new ParleyError('internal', `sdp has no media section ${index}`);
  const family = isIP(endpoint.address);
  if (family === 0) throw new ParleyError('internal', `not an IP literal: ${endpoint.address}`);
  for (const port of [endpoint.rtpPort, endpoint.rtcpPort]) {
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new ParleyError('internal', `port out of range: ${port}`);
    }
  }
  const addressType: SdpAddressType = family === 6 ? 'IP6' : 'IP4';
  const connection: SdpConnection = { addressType, address: endpoint.address };
  const cLine: SdpLine = { kind: 'connection', connection };
  const heldOldStyle = isOldHold(sdp, m);
  const heldDirection = heldOldStyle ? direction(sdp, index) : undefined;

  const sessionHasC = sdp.session.some((l) => l.kind === 'connection');
  const session = sdp.session
    .filter((l) => !leaksTopology(l))
    .map((l) => (l.kind === 'connection' ? cLine : l));

  let lines = m.lines.filter((l) => !leaksTopology(l));
  if (lines.some((l) => l.kind === 'connection')) {
    lines = replaceAll(lines, 'connection', cLine);
  } else if (!sessionHasC) {
    // RFC 8866 §5.7 order: i= then c= — insert after any leading i= line.
    const at = lines.findIndex((l) => !(l.kind === 'other' && l.type === 'i'));
    lines.splice(at === -1 ? lines.length : at, 0, cLine);
  }
  const rtcpOnNextPort = endpoint.rtcpPort === endpoint.rtpPort + 1;
  if (lines.some((l) => l.kind === 'rtcp') || !rtcpOnNextPort) {
    lines = lines.map((l): SdpLine =>
      l.kind === 'rtcp'
        ? l.connection === undefined
          ? { kind: 'rtcp', port: endpoint.rtcpPort }
          : { kind: 'rtcp', port: endpoint.rtcpPort, connection }
        : l,
    );
    if (!lines.some((l) => l.kind === 'rtcp'))
      lines.push({ kind: 'rtcp', port: endpoint.rtcpPort });
  }
  if (heldDirection !== undefined) {
    lines = replaceAll(lines, 'direction', { kind: 'direction', direction: heldDirection });
  }

  const { portCount: _dropped, ...head } = m;
  const rewritten: Sdp = {
    ...sdp,
    origin: { ...sdp.origin, addressType, address: endpoint.address },
    session,
    media: sdp.media.map((section, i) =>
      i === index ? { ...head, port: endpoint.rtpPort, lines } : section,
    ),
  };
  return options.bumpVersion ? bumpVersion(rewritten) : rewritten;
}

/** The same SDP with o= session version + 1 (RFC 3264 §8: each new offer of a session). */
export function bumpVersion(sdp: Sdp): Sdp {
  const version = (BigInt(sdp.origin.sessionVersion) + 1n).toString();
  return { ...sdp, origin: { ...sdp.origin, sessionVersion: version } };
}

/**
 * Origin continuity on one leg: `next` takes the o= of the SDP `previous`ly
 * sent on that leg, with the version incremented if anything else changed
 * (RFC 3264 §8: same session id, version + 1 when the content changes, the same
 * version when it does not). With no previous SDP, `next` is returned as is.
 */
export function continueOrigin(previous: Sdp | undefined, next: Sdp): Sdp {
  if (previous === undefined) return next;
  const candidate: Sdp = { ...next, origin: previous.origin };
  return formatSdp(candidate) === formatSdp(previous) ? candidate : bumpVersion(candidate);
}
