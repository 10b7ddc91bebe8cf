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
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { ParleyError } from '@parley/shared/errors';

export type SdpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
export type SdpAddressType = 'IP4' | 'IP6';

export interface SdpConnection {
  readonly addressType: SdpAddressType;
  readonly address: string;
  /** Multicast TTL and/or address count, verbatim with its slashes ("/127/3"). */
  readonly suffix?: string;
}

/** o=<username> <sess-id> <sess-version> IN <addrtype> <unicast-address> */
export interface SdpOrigin {
  readonly username: string;
  readonly sessionId: string;
  /** Decimal digits; may exceed 2^53 (many stacks use NTP timestamps), so kept as text. */
  readonly sessionVersion: string;
  readonly addressType: SdpAddressType;
  readonly address: string;
}

export type SdpLine =
  | { readonly kind: 'connection'; readonly connection: SdpConnection }
  | {
      readonly kind: 'rtpmap';
      readonly pt: number;
      readonly name: string;
      readonly clockRate: number;
      readonly channels?: number;
    }
  | { readonly kind: 'fmtp'; readonly format: string; readonly parameters: string }
  | { readonly kind: 'ptime'; readonly ms: number }
  | { readonly kind: 'direction'; readonly direction: SdpDirection }
  | { readonly kind: 'rtcp'; readonly port: number; readonly connection?: SdpConnection }
  /** Any other a= line: `a=<name>` or `a=<name>:<value>`. */
  | { readonly kind: 'attribute'; readonly name: string; readonly value?: string }
  /** Any other line (i=, t=, b=, …): `<type>=<value>`, verbatim. */
  | { readonly kind: 'other'; readonly type: string; readonly value: string };

export interface SdpMedia {
  /** audio, video, image, … */
  readonly media: string;
  readonly port: number;
  /** The `/<number of ports>` of m=, when present. */
  readonly portCount?: number;
  /** RTP/AVP, RTP/SAVP, udptl, … */
  readonly proto: string;
  /** Payload types for RTP protocols, other tokens otherwise. */
  readonly formats: readonly string[];
  /** The lines after m=, in order. */
  readonly lines: readonly SdpLine[];
}

export interface Sdp {
  readonly origin: SdpOrigin;
  readonly sessionName: string;
  /** Session-level lines after s=, in order (c=, t=, a=, …). */
  readonly session: readonly SdpLine[];
  readonly media: readonly SdpMedia[];
}

/** Larger than any SIP body we accept; parsing stops here rather than chew on garbage. */
export const MAX_SDP_LENGTH = 65536;

const DIRECTIONS: ReadonlySet<string> = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);
/** RFC 8866 §9 `token`. */
const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$/;
const DIGITS = /^[0-9]{1,20}$/;
/** Types RFC 8866 allows only before the first m= line. */
const SESSION_ONLY_TYPES: ReadonlySet<string> = new Set([
  'v',
  'o',
  's',
  'u',
  'e',
  'p',
  't',
  'r',
  'z',
]);

function bad(line: number, what: string): ParleyError<'bad_request'> {
  return new ParleyError('bad_request', `sdp line ${line}: ${what}`);
}

// ---------------------------------------------------------------------------
// Parsing

/** Parses an SDP body. Throws `ParleyError('bad_request')` on anything malformed. */
export function parseSdp(text: string): Sdp {
  if (typeof text !== 'string') throw new ParleyError('bad_request', 'sdp is not text');
  if (text.length > MAX_SDP_LENGTH) throw new ParleyError('bad_request', 'sdp too large');
  // RFC 8866 §5: CRLF, but parsers should accept a bare LF.
  const raw = text.split(/\r?\n/);
  while (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  if (raw.length < 3) throw new ParleyError('bad_request', 'sdp needs at least v=, o= and s=');

  const lines: { type: string; value: string }[] = [];
  for (const [i, line] of raw.entries()) {
    if (line.length < 2 || line[1] !== '=' || !/^[a-z]$/.test(line[0]!)) {
      throw bad(i + 1, 'not <type>=<value>');
    }
    if (/[\0\r\n]/.test(line)) throw bad(i + 1, 'stray control character');
    lines.push({ type: line[0]!, value: line.slice(2) });
  }

  const [v, o, s] = lines as [
    (typeof lines)[number],
    (typeof lines)[number],
    (typeof lines)[number],
  ];
  if (v.type !== 'v' || v.value !== '0') throw bad(1, 'expected v=0');
  if (o.type !== 'o') throw bad(2, 'expected o=');
  if (s.type !== 's') throw bad(3, 'expected s=');
  const origin = parseOrigin(o.value, 2);

  const session: SdpLine[] = [];
  const media: { head: Omit<SdpMedia, 'lines'>; lines: SdpLine[] }[] = [];
  for (let i = 3; i < lines.length; i++) {
    const { type, value } = lines[i]!;
    const n = i + 1;
    if (type === 'm') {
      media.push({ head: parseMediaLine(value, n), lines: [] });
      continue;
    }
    const current = media[media.length - 1];
    if (current === undefined) {
      if (type === 'v' || type === 'o' || type === 's') throw bad(n, `duplicate ${type}=`);
      session.push(parseLine(type, value, n));
    } else {
      if (SESSION_ONLY_TYPES.has(type)) throw bad(n, `${type}= is not allowed after m=`);
      current.lines.push(parseLine(type, value, n));
    }
  }
  return {
    origin,
    sessionName: s.value,
    session,
    media: media.map(({ head, lines: ls }) => ({ ...head, lines: ls })),
  };
}

function parseOrigin(value: string, n: number): SdpOrigin {
  const f = fields(value);
  if (f.length !== 6) throw bad(n, 'o= needs 6 fields');
  const [username, sessionId, sessionVersion, netType, addressType, address] = f as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (!DIGITS.test(sessionVersion)) throw bad(n, 'o= session version is not a number');
  if (netType !== 'IN') throw bad(n, 'o= network type is not IN');
  if (addressType !== 'IP4' && addressType !== 'IP6') throw bad(n, 'o= address type');
  return {
    username,
    sessionId,
    sessionVersion: BigInt(sessionVersion).toString(),
    addressType,
    address,
  };
}

function parseMediaLine(value: string, n: number): Omit<SdpMedia, 'lines'> {
  const f = fields(value);
  if (f.length < 4) throw bad(n, 'm= needs media, port, proto and at least one format');
  const [media, portText, proto, ...formats] = f as [string, string, string, ...string[]];
  if (!TOKEN.test(media)) throw bad(n, 'm= media is not a token');
  if (!/^[A-Za-z0-9/._+-]+$/.test(proto)) throw bad(n, 'm= proto');
  for (const format of formats) if (!TOKEN.test(format)) throw bad(n, 'm= format is not a token');
  const [portPart, countPart, extra] = portText.split('/');
  if (extra !== undefined) throw bad(n, 'm= port');
  const port = parsePort(portPart, n);
  if (countPart === undefined) return { media, port, proto, formats };
  const portCount = parseInteger(countPart, 1, 65535, n, 'm= port count');
  return { media, port, portCount, proto, formats };
}

function parseLine(type: string, value: string, n: number): SdpLine {
  if (type === 'c') return { kind: 'connection', connection: parseConnection(value, n) };
  if (type !== 'a') return { kind: 'other', type, value };
  const colon = value.indexOf(':');
  const name = colon === -1 ? value : value.slice(0, colon);
  if (!TOKEN.test(name)) throw bad(n, 'attribute name is not a token');
  if (colon === -1) {
    return DIRECTIONS.has(name)
      ? { kind: 'direction', direction: name as SdpDirection }
      : { kind: 'attribute', name };
  }
  const rest = value.slice(colon + 1);
  switch (name) {
    case 'rtpmap':
      return parseRtpmap(rest, n);
    case 'fmtp': {
      const space = rest.indexOf(' ');
      const format = space === -1 ? rest : rest.slice(0, space);
      if (!TOKEN.test(format)) throw bad(n, 'a=fmtp format is not a token');
      return { kind: 'fmtp', format, parameters: space === -1 ? '' : rest.slice(space + 1) };
    }
    case 'ptime': {
      if (!/^[0-9]{1,6}(\.[0-9]{1,6})?$/.test(rest)) throw bad(n, 'a=ptime is not a number');
      const ms = Number(rest);
      if (ms <= 0) throw bad(n, 'a=ptime is not positive');
      return { kind: 'ptime', ms };
    }
    case 'rtcp': {
      // RFC 3605: a=rtcp:<port> [IN <addrtype> <address>]
      const f = fields(rest);
      const port = parsePort(f[0], n);
      if (f.length === 1) return { kind: 'rtcp', port };
      if (f.length !== 4) throw bad(n, 'a=rtcp');
      return { kind: 'rtcp', port, connection: parseConnection(f.slice(1).join(' '), n) };
    }
    default:
      return { kind: 'attribute', name, value: rest };
  }
}

function parseRtpmap(rest: string, n: number): SdpLine {
  // a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]
  const match = /^([0-9]{1,3}) ([A-Za-z0-9._+-]+)\/([0-9]{1,10})(?:\/([0-9]{1,3}))? *$/.exec(rest);
  if (match === null) throw bad(n, 'a=rtpmap');
  const pt = parseInteger(match[1], 0, 127, n, 'a=rtpmap payload type');
  const clockRate = parseInteger(match[3], 1, 4294967295, n, 'a=rtpmap clock rate');
  const base = { kind: 'rtpmap', pt, name: match[2]!, clockRate } as const;
  if (match[4] === undefined) return base;
  return { ...base, channels: parseInteger(match[4], 1, 255, n, 'a=rtpmap channels') };
}

function parseConnection(value: string, n: number): SdpConnection {
  const f = fields(value);
  if (f.length !== 3) throw bad(n, 'c= needs 3 fields');
  const [netType, addressType, full] = f as [string, string, string];
  if (netType !== 'IN') throw bad(n, 'c= network type is not IN');
  if (addressType !== 'IP4' && addressType !== 'IP6') throw bad(n, 'c= address type');
  const slash = full.indexOf('/');
  const address = slash === -1 ? full : full.slice(0, slash);
  const valid = addressType === 'IP4' ? isIPv4(address) : isIPv6(address);
  if (!valid) throw bad(n, `c= address is not an ${addressType} literal`);
  if (slash === -1) return { addressType, address };
  const suffix = full.slice(slash);
  if (!/^(\/[0-9]{1,5}){1,2}$/.test(suffix)) throw bad(n, 'c= multicast suffix');
  return { addressType, address, suffix };
}

/** Space-separated fields; runs of spaces and trailing spaces are tolerated. */
function fields(value: string): string[] {
  const f = value.replace(/ +$/, '').split(/ +/);
  if (f[0] === '') throw new ParleyError('bad_request', 'sdp: leading space');
  return f;
}

function parsePort(text: string | undefined, n: number): number {
  return parseInteger(text, 0, 65535, n, 'port');
}

function parseInteger(
  text: string | undefined,
  min: number,
  max: number,
  n: number,
  what: string,
): number {
  if (text === undefined || !/^[0-9]{1,10}$/.test(text)) throw bad(n, `${what} is not a number`);
  const value = Number(text);
  if (value < min || value > max) throw bad(n, `${what} out of range`);
  return value;
}

// ---------------------------------------------------------------------------
// Formatting

/** Renders SDP with CRLF line ends (and a final CRLF). */
export function formatSdp(sdp: Sdp): string {
  const o = sdp.origin;
  const out = [
    'v=0',
    `o=${o.username} ${o.sessionId} ${o.sessionVersion} IN ${o.addressType} ${o.address}`,
    `s=${sdp.sessionName}`,
  ];
  for (const line of sdp.session) out.push(formatLine(line));
  for (const m of sdp.media) {
    const port = m.portCount === undefined ? `${m.port}` : `${m.port}/${m.portCount}`;
    out.push(`m=${m.media} ${port} ${m.proto} ${m.formats.join(' ')}`);
    for (const line of m.lines) out.push(formatLine(line));
  }
  for (const line of out) {
    // Values are ours or came from parseSdp; a line break here would inject SDP lines.
    if (/[\0\r\n]/.test(line)) {
      throw new ParleyError('internal', 'sdp field contains a line break or NUL');
    }
  }
  return `${out.join('\r\n')}\r\n`;
}

function formatConnection(c: SdpConnection): string {
  return `IN ${c.addressType} ${c.address}${c.suffix ?? ''}`;
}

function formatLine(line: SdpLine): string {
  switch (line.kind) {
    case 'connection':
      return `c=${formatConnection(line.connection)}`;
    case 'rtpmap':
      return `a=rtpmap:${line.pt} ${line.name}/${line.clockRate}${
        line.channels === undefined ? '' : `/${line.channels}`
      }`;
    case 'fmtp':
      return line.parameters === ''
        ? `a=fmtp:${line.format}`
        : `a=fmtp:${line.format} ${line.parameters}`;
    case 'ptime':
      return `a=ptime:${line.ms}`;
    case 'direction':
      return `a=${line.direction}`;
    case 'rtcp':
      return line.connection === undefined
        ? `a=rtcp:${line.port}`
        : `a=rtcp:${line.port} ${formatConnection(line.connection)}`;
    case 'attribute':
      return line.value === undefined ? `a=${line.name}` : `a=${line.name}:${line.value}`;
    case 'other':
      return `${line.type}=${line.value}`;
  }
}

// ---------------------------------------------------------------------------
// What the B2BUA reads

export interface SdpCodec {
  readonly pt: number;
  readonly name: string;
  readonly clockRate: number;
  readonly channels: number;
  /** The a=fmtp parameters for this payload type, if any. */
  readonly fmtp: string | undefined;
}

export interface SdpEndpoint {
  /** Where the peer receives media (c= of the section, else of the session). */
  readonly address: string;
  readonly addressType: SdpAddressType;
  /** 0: the stream is rejected (or, in old offers, held with port 0). */
  readonly rtpPort: number;
  /** a=rtcp if present, else rtpPort + 1 (RFC 3550 §11); 0 when rtpPort is 0. */
  readonly rtcpPort: number;
  /** a=rtcp-mux present (RFC 5761): RTCP may share the RTP port if the answer agrees. */
  readonly rtcpMux: boolean;
  /** Effective direction (media, else session, else sendrecv; c=0.0.0.0 removes "recv"). */
  readonly direction: SdpDirection;
  readonly rejected: boolean;
  /** Numeric formats in m= order (empty for non-RTP protocols). */
  readonly payloadTypes: readonly number[];
  /** Payload types with a known encoding (a=rtpmap or the RFC 3551 static table). */
  readonly codecs: readonly SdpCodec[];
  readonly ptime: number | undefined;
}

/** RFC 3551 §6 static payload types (the ones still met in practice). */
const STATIC_PAYLOAD_TYPES: ReadonlyMap<number, readonly [string, number, number]> = new Map([
  [0, ['PCMU', 8000, 1]],
  [3, ['GSM', 8000, 1]],
  [4, ['G723', 8000, 1]],
  [5, ['DVI4', 8000, 1]],
  [6, ['DVI4', 16000, 1]],
  [7, ['LPC', 8000, 1]],
  [8, ['PCMA', 8000, 1]],
  [9, ['G722', 8000, 1]],
  [10, ['L16', 44100, 2]],
  [11, ['L16', 44100, 1]],
  [12, ['QCELP', 8000, 1]],
  [13, ['CN', 8000, 1]],
  [15, ['G728', 8000, 1]],
  [18, ['G729', 8000, 1]],
  [26, ['JPEG', 90000, 1]],
  [31, ['H261', 90000, 1]],
  [34, ['H263', 90000, 1]],
]);

/** The media endpoint of section `index`, or undefined if there is no such section or no c=. */
export function mediaEndpoint(sdp: Sdp, index = 0): SdpEndpoint | undefined {
  const m = sdp.media[index];
  if (m === undefined) return undefined;
  const connection = effectiveConnection(sdp, m);
  if (connection === undefined) return undefined;
  const rtcpLine = m.lines.find((l) => l.kind === 'rtcp');
  const isRtp = /(^|\/)RTP\//.test(m.proto);
  const payloadTypes = isRtp
    ? m.formats.filter((f) => /^[0-9]{1,3}$/.test(f) && Number(f) <= 127).map(Number)
    : [];
  const codecs: SdpCodec[] = [];
  for (const pt of payloadTypes) {
    const rtpmap = m.lines.find((l) => l.kind === 'rtpmap' && l.pt === pt);
    const fmtp = m.lines.find((l) => l.kind === 'fmtp' && l.format === `${pt}`);
    const fmtpText = fmtp?.kind === 'fmtp' ? fmtp.parameters : undefined;
    if (rtpmap?.kind === 'rtpmap') {
      codecs.push({
        pt,
        name: rtpmap.name,
        clockRate: rtpmap.clockRate,
        channels: rtpmap.channels ?? 1,
        fmtp: fmtpText,
      });
    } else {
      const known = STATIC_PAYLOAD_TYPES.get(pt);
      if (known) {
        codecs.push({
          pt,
          name: known[0],
          clockRate: known[1],
          channels: known[2],
          fmtp: fmtpText,
        });
      }
    }
  }
  const ptime =
    m.lines.find((l) => l.kind === 'ptime') ?? sdp.session.find((l) => l.kind === 'ptime');
  return {
    address: connection.address,
    addressType: connection.addressType,
    rtpPort: m.port,
    rtcpPort: rtcpLine?.kind === 'rtcp' ? rtcpLine.port : m.port === 0 ? 0 : m.port + 1,
    rtcpMux: m.lines.some((l) => l.kind === 'attribute' && l.name === 'rtcp-mux'),
    direction: direction(sdp, index),
    rejected: m.port === 0,
    payloadTypes,
    codecs,
    ptime: ptime?.kind === 'ptime' ? ptime.ms : undefined,
  };
}

function effectiveConnection(sdp: Sdp, m: SdpMedia | undefined): SdpConnection | undefined {
  const own = m?.lines.find((l) => l.kind === 'connection');
  if (own?.kind === 'connection') return own.connection;
  const session = sdp.session.find((l) => l.kind === 'connection');
  return session?.kind === 'connection' ? session.connection : undefined;
}

/**
 * RFC 2543 hold: c=0.0.0.0 (RFC 3264 §8.4 keeps it recognisable; we also accept ::).
 * Not when the section uses ICE: there 0.0.0.0 (port 9) is the placeholder of an
 * offer whose candidates trickle later (RFC 8840 §4.2), as browsers send it.
 */
function isOldHold(sdp: Sdp, m: SdpMedia | undefined): boolean {
  const address = effectiveConnection(sdp, m)?.address;
  if (address !== '0.0.0.0' && address !== '::') return false;
  const usesIce = (lines: readonly SdpLine[] | undefined): boolean =>
    lines?.some(
      (l) => l.kind === 'attribute' && (l.name === 'ice-ufrag' || l.name === 'candidate'),
    ) ?? false;
  return !usesIce(m?.lines) && !usesIce(sdp.session);
}

function findDirection(lines: readonly SdpLine[] | undefined): SdpDirection | undefined {
  const line = lines?.find((l) => l.kind === 'direction');
  return line?.kind === 'direction' ? line.direction : undefined;
}

/**
 * The effective direction of media section `index` (media attribute, else
 * session attribute, else sendrecv). The old hold form c=0.0.0.0 (without ICE)
 * means "do not send to me", so it removes "recv": sendrecv → sendonly,
 * recvonly → inactive.
 */
export function direction(sdp: Sdp, index = 0): SdpDirection {
  const m = sdp.media[index];
  const declared = findDirection(m?.lines) ?? findDirection(sdp.session) ?? 'sendrecv';
  if (!isOldHold(sdp, m)) return declared;
  return declared === 'sendrecv' ? 'sendonly' : declared === 'recvonly' ? 'inactive' : declared;
}

// ---------------------------------------------------------------------------
// What the B2BUA writes

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
