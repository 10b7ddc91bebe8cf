/**
 * SDP parsing (RFC 8866). Strictness: v=0, o=, s= must come first (§5);
 * session-only types (t=, r=, z=, …) may not follow m=; parsed lines must match
 * their grammar; c= must carry an IP literal (never a host name: resolving a
 * peer-chosen name would leak DNS traffic off the gateway). Anything else is a
 * `ParleyError('bad_request')`, never another exception.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ParleyError } from '@parley/shared/errors';
import {
  MAX_SDP_LENGTH,
  type Sdp,
  type SdpConnection,
  type SdpDirection,
  type SdpLine,
  type SdpMedia,
  type SdpOrigin,
} from './types.js';

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
