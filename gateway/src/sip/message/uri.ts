/**
 * SIP, SIPS (RFC 3261 §19.1, §25.1) and tel (RFC 3966) URIs; any other scheme is kept
 * as an opaque absoluteURI. Components are unescaped on parse (`%75se%72` is user
 * `user`, `%00` a NUL) and escaped again on format, once: `v%61lue%25%34%31` is the
 * value `value%41`, never `valueA` (RFC 4475 §3.1.1.3). Hosts keep IPv6 brackets.
 */
import { isUtf8 } from 'node:buffer';
import { SipParseError, excerpt } from './sip-parse-error.js';
import { HNV, HOST, PARAMCHAR, PASSWORD, SCHEME, TEL, URIC, USER, allIn } from './lexer.js';
import type { Params } from './params.js';

export type UriHeaders = readonly (readonly [name: string, value: string])[];

export interface SipUri {
  readonly scheme: 'sip' | 'sips';
  /** Unescaped user part; undefined when the URI has no userinfo. */
  readonly user: string | undefined;
  readonly password: string | undefined;
  /** Host name, IPv4 address or bracketed IPv6 reference, as written. */
  readonly host: string;
  readonly port: number | undefined;
  /** uri-parameters (unescaped), in order; `null` value for `;lr`. */
  readonly params: Params;
  /** `?name=value&...` headers (unescaped), in order. */
  readonly headers: UriHeaders;
}

export interface TelUri {
  readonly scheme: 'tel';
  /** The number as written, visual separators included (`+1-201-555-0123`). */
  readonly number: string;
  readonly params: Params;
}

/** Any other scheme (`http:`, `urn:`, `isbn:`...): kept as written. */
export interface AbsoluteUri {
  /** Lower-case scheme. */
  readonly scheme: string;
  /** Everything after the colon. */
  readonly opaque: string;
}

export type Uri = SipUri | TelUri | AbsoluteUri;

/** What `formatUri` accepts: a parsed URI or one built by hand with optional parts left out. */
export type UriInit =
  | {
      readonly scheme: 'sip' | 'sips';
      readonly user?: string | undefined;
      readonly password?: string | undefined;
      readonly host: string;
      readonly port?: number | undefined;
      readonly params?: Params;
      readonly headers?: UriHeaders;
    }
  | { readonly scheme: 'tel'; readonly number: string; readonly params?: Params }
  | AbsoluteUri;

export function isSipUri(uri: Uri): uri is SipUri {
  return uri.scheme === 'sip' || uri.scheme === 'sips';
}

export function isTelUri(uri: Uri): uri is TelUri {
  return uri.scheme === 'tel';
}

/** Parses a URI; throws SipParseError (400) when it is not one. */
export function parseUri(text: string): Uri {
  const colon = text.indexOf(':');
  if (colon <= 0 || !isAlpha(text.charCodeAt(0)) || !allIn(SCHEME, text, 1, colon)) {
    throw new SipParseError(`not a URI: ${excerpt(text)}`);
  }
  const scheme = text.slice(0, colon).toLowerCase();
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(text, scheme, colon + 1);
  if (scheme === 'tel') return parseTelUri(text, colon + 1);
  const opaque = text.slice(colon + 1);
  if (opaque.length === 0 || !allIn(URIC, opaque))
    throw new SipParseError(`bad ${scheme} URI: ${excerpt(text)}`);
  return { scheme, opaque };
}

function parseSipUri(text: string, scheme: 'sip' | 'sips', start: number): SipUri {
  let i = start;
  let user: string | undefined;
  let password: string | undefined;
  // '@' appears nowhere in a SIP URI but after the userinfo, so the first one ends it.
  const at = text.indexOf('@', i);
  if (at !== -1) {
    const colon = text.indexOf(':', i);
    const userEnd = colon !== -1 && colon < at ? colon : at;
    user = component(text, i, userEnd, USER, 'user', false);
    if (userEnd < at) password = component(text, userEnd + 1, at, PASSWORD, 'password', true);
    i = at + 1;
  }
  const hostEnd = scanHost(text, i);
  const host = text.slice(i, hostEnd);
  i = hostEnd;
  let port: number | undefined;
  if (text.charCodeAt(i) === 0x3a) {
    let j = i + 1;
    while (j < text.length && isDigit(text.charCodeAt(j))) j++;
    if (j === i + 1 || j - i - 1 > 5) throw new SipParseError(`bad port in URI ${excerpt(text)}`);
    port = Number(text.slice(i + 1, j));
    if (port > 65535) throw new SipParseError(`port out of range in URI ${excerpt(text)}`);
    i = j;
  }
  const params: [string, string | null][] = [];
  while (text.charCodeAt(i) === 0x3b) {
    let j = i + 1;
    while (j < text.length && !isOneOf(text.charCodeAt(j), 0x3d, 0x3b, 0x3f)) j++;
    const name = component(text, i + 1, j, PARAMCHAR, 'uri-parameter name', false);
    let value: string | null = null;
    i = j;
    if (text.charCodeAt(i) === 0x3d) {
      j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 0x3b && text.charCodeAt(j) !== 0x3f) j++;
      value = component(text, i + 1, j, PARAMCHAR, `uri-parameter ${name}`, false);
      i = j;
    }
    params.push([name, value]);
  }
  const headers: [string, string][] = [];
  if (text.charCodeAt(i) === 0x3f) {
    do {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 0x3d && text.charCodeAt(j) !== 0x26) j++;
      const name = component(text, i + 1, j, HNV, 'uri header name', false);
      if (text.charCodeAt(j) !== 0x3d)
        throw new SipParseError(`uri header ${name} without '=' in ${excerpt(text)}`);
      i = j + 1;
      j = i;
      while (j < text.length && text.charCodeAt(j) !== 0x26) j++;
      headers.push([name, component(text, i, j, HNV, `uri header ${name}`, true)]);
      i = j;
    } while (text.charCodeAt(i) === 0x26);
  }
  if (i !== text.length)
    throw new SipParseError(`unexpected ${excerpt(text.slice(i), 10)} in URI ${excerpt(text)}`);
  return { scheme, user, password, host, port, params, headers };
}

function parseTelUri(text: string, start: number): TelUri {
  let i = start;
  while (i < text.length && text.charCodeAt(i) !== 0x3b) i++;
  const number = text.slice(start, i);
  if (number.length === 0 || !allIn(TEL, number))
    throw new SipParseError(`bad tel URI ${excerpt(text)}`);
  const params: [string, string | null][] = [];
  while (i < text.length) {
    let j = i + 1;
    while (j < text.length && text.charCodeAt(j) !== 0x3d && text.charCodeAt(j) !== 0x3b) j++;
    const name = component(text, i + 1, j, PARAMCHAR, 'tel parameter name', false);
    let value: string | null = null;
    i = j;
    if (text.charCodeAt(i) === 0x3d) {
      j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 0x3b) j++;
      value = component(text, i + 1, j, PARAMCHAR, `tel parameter ${name}`, false);
      i = j;
    }
    params.push([name, value]);
  }
  return { scheme: 'tel', number, params };
}

/** End of the host at `i`: a bracketed IPv6 reference or a run of host characters. */
function scanHost(text: string, i: number): number {
  if (text.charCodeAt(i) === 0x5b) {
    const close = text.indexOf(']', i);
    if (close === -1 || !isIpv6(text.slice(i + 1, close))) {
      throw new SipParseError(`bad IPv6 reference in ${excerpt(text)}`);
    }
    return close + 1;
  }
  let j = i;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (c >= 128 || HOST[c] !== 1) break;
    j++;
  }
  if (j === i) throw new SipParseError(`missing host in ${excerpt(text)}`);
  return j;
}

/** True for the inside of an IPv6 reference (hex groups, '::', an IPv4 tail). */
export function isIpv6(s: string): boolean {
  return s.length >= 2 && s.includes(':') && /^[0-9A-Fa-f:.]+$/.test(s);
}

/** True for a host as RFC 3261 writes it: hostname, IPv4 or [IPv6]. */
export function isHost(s: string): boolean {
  if (s.length === 0) return false;
  if (s.charCodeAt(0) === 0x5b)
    return s.charCodeAt(s.length - 1) === 0x5d && isIpv6(s.slice(1, -1));
  return allIn(HOST, s);
}

/** Validates text[from, to) against `set` plus %HH escapes and returns it unescaped. */
function component(
  text: string,
  from: number,
  to: number,
  set: Uint8Array,
  what: string,
  mayBeEmpty: boolean,
): string {
  if (from === to && !mayBeEmpty) throw new SipParseError(`empty ${what} in URI ${excerpt(text)}`);
  let escaped = false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      if (
        hexValue(text.charCodeAt(i + 1)) < 0 ||
        hexValue(text.charCodeAt(i + 2)) < 0 ||
        i + 2 >= to
      ) {
        throw new SipParseError(`bad escape in ${what} of URI ${excerpt(text)}`);
      }
      escaped = true;
      i += 2;
    } else if (c >= 128 || set[c] !== 1) {
      throw new SipParseError(`bad character in ${what} of URI ${excerpt(text)}`);
    }
  }
  const raw = text.slice(from, to);
  return escaped ? unescapeUri(raw) : raw;
}

/** Decodes %HH escapes (UTF-8, or Latin-1 when the octets are not UTF-8). */
export function unescapeUri(s: string): string {
  if (!s.includes('%')) return s;
  const bytes = Buffer.allocUnsafe(Buffer.byteLength(s));
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const hi = c === 0x25 ? hexValue(s.charCodeAt(i + 1)) : -1;
    const lo = hi >= 0 ? hexValue(s.charCodeAt(i + 2)) : -1;
    if (lo >= 0) {
      bytes[n++] = hi * 16 + lo;
      i += 2;
    } else if (c < 0x80) {
      bytes[n++] = c;
    } else {
      n += bytes.write(s[i] ?? '', n);
    }
  }
  const out = bytes.subarray(0, n);
  return isUtf8(out) ? out.toString('utf8') : out.toString('latin1');
}

/** Escapes every character of `value` outside `set` (and '%') as UTF-8 %HH. */
function escapeComponent(value: string, set: Uint8Array, what: string): string {
  if (value.length === 0) throw new TypeError(`empty ${what}`);
  let plain = true;
  for (let i = 0; i < value.length && plain; i++) {
    const c = value.charCodeAt(i);
    if (c >= 128 || set[c] !== 1) plain = false;
  }
  if (plain) return value;
  let out = '';
  for (const ch of value) {
    const c = ch.charCodeAt(0);
    if (c < 128 && set[c] === 1) out += ch;
    else
      for (const b of Buffer.from(ch, 'utf8'))
        out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function formatUri(uri: UriInit): string {
  if (uri.scheme === 'sip' || uri.scheme === 'sips') {
    const u = uri as Extract<UriInit, { scheme: 'sip' | 'sips' }>;
    let out = `${u.scheme}:`;
    if (u.user !== undefined) {
      out += escapeComponent(u.user, USER, 'user');
      if (u.password !== undefined)
        out += `:${u.password === '' ? '' : escapeComponent(u.password, PASSWORD, 'password')}`;
      out += '@';
    }
    if (!isHost(u.host)) throw new TypeError(`bad host ${JSON.stringify(u.host)}`);
    out += u.host;
    if (u.port !== undefined) {
      if (!Number.isInteger(u.port) || u.port < 0 || u.port > 65535)
        throw new TypeError(`bad port ${u.port}`);
      out += `:${u.port}`;
    }
    for (const [name, value] of u.params ?? []) {
      out += `;${escapeComponent(name, PARAMCHAR, 'uri-parameter name')}`;
      if (value !== null) out += `=${escapeComponent(value, PARAMCHAR, `uri-parameter ${name}`)}`;
    }
    let sep = '?';
    for (const [name, value] of u.headers ?? []) {
      out += `${sep}${escapeComponent(name, HNV, 'uri header name')}=`;
      if (value !== '') out += escapeComponent(value, HNV, `uri header ${name}`);
      sep = '&';
    }
    return out;
  }
  if (uri.scheme === 'tel' && 'number' in uri) {
    if (uri.number.length === 0 || !allIn(TEL, uri.number))
      throw new TypeError(`bad tel number ${uri.number}`);
    let out = `tel:${uri.number}`;
    for (const [name, value] of uri.params ?? []) {
      out += `;${escapeComponent(name, PARAMCHAR, 'tel parameter name')}`;
      if (value !== null) out += `=${escapeComponent(value, PARAMCHAR, `tel parameter ${name}`)}`;
    }
    return out;
  }
  const abs = uri as AbsoluteUri;
  if (
    !/^[A-Za-z][A-Za-z0-9+.-]*$/.test(abs.scheme) ||
    abs.opaque.length === 0 ||
    !allIn(URIC, abs.opaque)
  ) {
    throw new TypeError(`bad URI ${abs.scheme}:${abs.opaque}`);
  }
  return `${abs.scheme}:${abs.opaque}`;
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isOneOf(c: number, a: number, b: number, d: number): boolean {
  return c === a || c === b || c === d;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}
