/**
 * Via header field values (RFC 3261 §20.42, §25.1 via-parm; rport from RFC 3581).
 * LWS is allowed around the slashes of sent-protocol, around the colon of sent-by and
 * around `;` and `=` (RFC 4475 §3.1.1.1).
 */
import { SipParseError, excerpt } from './sip-parse-error.js';
import { isToken, isWsp, scanToken, skipWsp } from './lexer.js';
import {
  formatHeaderParams,
  parseHeaderParams,
  withParam,
  type Param,
  type Params,
} from './params.js';
import { isHost } from './uri.js';

/** RFC 3261 §8.1.1.7: a branch starting with this was built by an RFC 3261 element. */
export const MAGIC_COOKIE = 'z9hG4bK';

export interface Via {
  /** protocol-name/protocol-version as written, normally `SIP/2.0`. */
  readonly protocol: string;
  /** Upper-case: UDP, TCP, TLS, SCTP, WS, WSS or an extension. */
  readonly transport: string;
  /** sent-by host (IPv6 in brackets). */
  readonly host: string;
  readonly port: number | undefined;
  readonly branch: string | undefined;
  readonly received: string | undefined;
  /** RFC 3581: `true` when present without value (a request asking for it), else the port. */
  readonly rport: number | true | undefined;
  readonly maddr: string | undefined;
  readonly ttl: number | undefined;
  /** Every parameter in order, the ones above included. */
  readonly params: Params;
}

export interface ViaInit {
  readonly protocol?: string;
  readonly transport: string;
  readonly host: string;
  readonly port?: number | undefined;
  readonly params?: Params;
  /** Each of these, when given, replaces its parameter in `params` (or is appended). */
  readonly branch?: string | undefined;
  readonly received?: string | undefined;
  readonly rport?: number | true | undefined;
  readonly maddr?: string | undefined;
  readonly ttl?: number | undefined;
}

export function parseVia(value: string): Via {
  let i = skipWsp(value, 0);
  const nameEnd = scanToken(value, i);
  const name = value.slice(i, nameEnd);
  i = expectSlash(value, nameEnd);
  const versionEnd = scanToken(value, i);
  const version = value.slice(i, versionEnd);
  i = expectSlash(value, versionEnd);
  const transportEnd = scanToken(value, i);
  const transport = value.slice(i, transportEnd).toUpperCase();
  if (name === '' || version === '' || transport === '') throw bad(value, 'sent-protocol');
  if (!isWsp(value.charCodeAt(transportEnd))) throw bad(value, 'no LWS before sent-by');
  i = skipWsp(value, transportEnd);
  let hostEnd = i;
  if (value.charCodeAt(i) === 0x5b) hostEnd = value.indexOf(']', i) + 1;
  else while (hostEnd < value.length && isHostChar(value.charCodeAt(hostEnd))) hostEnd++;
  const host = value.slice(i, hostEnd > i ? hostEnd : i);
  if (hostEnd <= i || !isHost(host)) throw bad(value, 'sent-by host');
  i = skipWsp(value, hostEnd);
  let port: number | undefined;
  if (value.charCodeAt(i) === 0x3a) {
    i = skipWsp(value, i + 1);
    const digitsEnd = scanDigits(value, i);
    port = toPort(value.slice(i, digitsEnd), value);
    i = digitsEnd;
  }
  const params = parseHeaderParams(value, i, 'Via', true);
  let branch: string | undefined;
  let received: string | undefined;
  let rport: number | true | undefined;
  let maddr: string | undefined;
  let ttl: number | undefined;
  const seen = new Set<string>();
  for (const [n, v] of params) {
    const key = n.toLowerCase();
    if (
      key === 'branch' ||
      key === 'received' ||
      key === 'rport' ||
      key === 'maddr' ||
      key === 'ttl'
    ) {
      if (seen.has(key)) throw bad(value, `duplicate ${key}`);
      seen.add(key);
    }
    if (key === 'branch') branch = required(v, value, key);
    else if (key === 'received') received = hostValue(required(v, value, key), value, key);
    else if (key === 'maddr') maddr = hostValue(required(v, value, key), value, key);
    else if (key === 'rport') rport = v === null ? true : toPort(v, value);
    else if (key === 'ttl') {
      const t = required(v, value, key);
      if (!/^\d{1,3}$/.test(t) || Number(t) > 255) throw bad(value, 'ttl');
      ttl = Number(t);
    }
  }
  return {
    protocol: `${name}/${version}`,
    transport,
    host,
    port,
    branch,
    received,
    rport,
    maddr,
    ttl,
    params,
  };
}

export function formatVia(via: ViaInit): string {
  const protocol = via.protocol ?? 'SIP/2.0';
  if (!/^[^\s/]+\/[^\s/]+$/.test(protocol)) throw new TypeError(`bad Via protocol ${protocol}`);
  if (!isToken(via.transport)) throw new TypeError(`bad Via transport ${via.transport}`);
  if (!isHost(via.host)) throw new TypeError(`bad Via host ${via.host}`);
  let out = `${protocol}/${via.transport.toUpperCase()} ${via.host}`;
  if (via.port !== undefined) out += `:${checkPort(via.port)}`;
  let params: Param[] | Params = via.params ?? [];
  if (via.branch !== undefined) params = withParam(params, 'branch', via.branch);
  if (via.received !== undefined) params = withParam(params, 'received', via.received);
  if (via.rport !== undefined)
    params = withParam(params, 'rport', via.rport === true ? null : String(checkPort(via.rport)));
  if (via.maddr !== undefined) params = withParam(params, 'maddr', via.maddr);
  if (via.ttl !== undefined) params = withParam(params, 'ttl', String(via.ttl));
  return out + formatHeaderParams(params);
}

/** True for a branch an RFC 3261 transaction layer can match on: the cookie plus something. */
export function isRfc3261Branch(branch: string | undefined): branch is string {
  return (
    branch !== undefined && branch.length > MAGIC_COOKIE.length && branch.startsWith(MAGIC_COOKIE)
  );
}

function expectSlash(value: string, i: number): number {
  i = skipWsp(value, i);
  if (value.charCodeAt(i) !== 0x2f) throw bad(value, "expected '/' in sent-protocol");
  return skipWsp(value, i + 1);
}

function isHostChar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x5f
  );
}

function scanDigits(value: string, i: number): number {
  while (i < value.length && value.charCodeAt(i) >= 0x30 && value.charCodeAt(i) <= 0x39) i++;
  return i;
}

function toPort(digits: string, value: string): number {
  if (!/^\d{1,5}$/.test(digits) || Number(digits) > 65535) throw bad(value, 'port');
  return Number(digits);
}

function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`bad port ${port}`);
  return port;
}

function required(v: string | null, value: string, key: string): string {
  if (v === null) throw bad(value, `${key} without value`);
  return v;
}

function hostValue(v: string, value: string, key: string): string {
  // RFC 3261 writes received IPv6 addresses bare, RFC 5118 shows them bracketed: take both.
  if (!isHost(v) && !isHost(`[${v}]`)) throw bad(value, key);
  return v;
}

function bad(value: string, what: string): SipParseError {
  return new SipParseError(`Via: bad ${what} in ${excerpt(value)}`);
}
