/**
 * Parameter lists: `;name=value` after a name-addr, a Via or inside a URI. Kept as an
 * ordered array of pairs with the names as written, so a message re-formats in the
 * order it arrived; lookups ignore case (RFC 3261 §7.3.1: parameter names are
 * case-insensitive). A value of `null` is a parameter without value (`;lr`).
 */
import { SipParseError, excerpt } from './sip-parse-error.js';
import { isToken, readQuoted, scanToken, skipWsp } from './lexer.js';

export type Param = readonly [name: string, value: string | null];
export type Params = readonly Param[];

/** The value of parameter `name`: undefined when absent, null when present without value. */
export function getParam(params: Params, name: string): string | null | undefined {
  const lower = name.toLowerCase();
  for (const [n, v] of params) if (n.toLowerCase() === lower) return v;
  return undefined;
}

export function hasParam(params: Params, name: string): boolean {
  return getParam(params, name) !== undefined;
}

/** A copy of `params` with `name` set (in place if present, else appended) or removed (undefined). */
export function withParam(params: Params, name: string, value: string | null | undefined): Param[] {
  const lower = name.toLowerCase();
  const out: Param[] = [];
  let done = false;
  for (const p of params) {
    if (p[0].toLowerCase() !== lower) out.push(p);
    else if (!done && value !== undefined) {
      out.push([p[0], value]);
      done = true;
    }
  }
  if (!done && value !== undefined) out.push([name, value]);
  return out;
}

/**
 * Reads header parameters (generic-param, via-params, contact-params...) from `i` to the
 * end of `s`: *( SEMI token [ EQUAL ( token / host / quoted-string ) ] ) with SWS around
 * SEMI and EQUAL. A quoted value is kept with its quotes (use `unquote`), so formatting
 * writes it back as it came. Empty parameters (";;") are an error (RFC 4475 §3.1.2.1).
 * `colonInValues` lets a token value contain ':' (bare IPv6 in a Via).
 */
export function parseHeaderParams(
  s: string,
  i: number,
  what: string,
  colonInValues = false,
): Param[] {
  const params: Param[] = [];
  for (;;) {
    i = skipWsp(s, i);
    if (i >= s.length) return params;
    if (s.charCodeAt(i) !== 0x3b)
      throw new SipParseError(`${what}: expected ';' at ${excerpt(s.slice(i))}`);
    i = skipWsp(s, i + 1);
    const nameEnd = scanToken(s, i);
    if (nameEnd === i)
      throw new SipParseError(`${what}: empty or bad parameter at ${excerpt(s.slice(i))}`);
    const name = s.slice(i, nameEnd);
    i = skipWsp(s, nameEnd);
    if (i < s.length && s.charCodeAt(i) === 0x3d) {
      i = skipWsp(s, i + 1);
      const c = s.charCodeAt(i);
      let end: number;
      if (c === 0x22) end = readQuoted(s, i, what).end;
      else if (c === 0x5b) {
        end = s.indexOf(']', i);
        if (end === -1)
          throw new SipParseError(`${what}: unterminated IPv6 reference in ${excerpt(s)}`);
        end++;
      } else {
        end = scanToken(s, i);
        // Via's received may be a bare IPv6 address (RFC 3261 via-received).
        while (colonInValues && s.charCodeAt(end) === 0x3a) end = scanToken(s, end + 1);
      }
      if (end === i) throw new SipParseError(`${what}: parameter ${name} has an empty value`);
      params.push([name, s.slice(i, end)]);
      i = end;
    } else {
      params.push([name, null]);
    }
  }
}

/** Formats header parameters; a value must be a token, a host or an already quoted string. */
export function formatHeaderParams(params: Params): string {
  let out = '';
  for (const [name, value] of params) {
    if (!isToken(name)) throw new TypeError(`bad parameter name ${JSON.stringify(name)}`);
    if (value === null) out += `;${name}`;
    else {
      checkParamValue(name, value);
      out += `;${name}=${value}`;
    }
  }
  return out;
}

function checkParamValue(name: string, value: string): void {
  if (value.length === 0) throw new TypeError(`parameter ${name} has an empty value`);
  const c = value.charCodeAt(0);
  if (c === 0x22) {
    if (readQuoted(value, 0, 'parameter').end !== value.length) {
      throw new TypeError(`parameter ${name}: bad quoted value`);
    }
  } else if (c === 0x5b) {
    if (!/^\[[0-9A-Fa-f:.]+\]$/.test(value))
      throw new TypeError(`parameter ${name}: bad IPv6 reference`);
  } else if (!isToken(value)) {
    throw new TypeError(
      `parameter ${name}: value must be a token or quoted (${JSON.stringify(value)})`,
    );
  }
}
