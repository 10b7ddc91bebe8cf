/**
 * Character classes and small scanners of the RFC 3261 §25.1 grammar, shared by the
 * URI, name-addr, Via and message parsers. Tables indexed by char code (ASCII only:
 * everything ≥ 0x80 is outside every class here) keep the hot loops branch-light.
 */
import { SipParseError, excerpt } from './sip-parse-error.js';

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const MARK = "-_.!~*'()";

function table(chars: string): Uint8Array {
  const t = new Uint8Array(128);
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN = table(ALNUM + "-.!%*_+`'~");
/** word (Call-ID): token characters plus ( ) < > : \ DQUOTE / [ ] ? { } */
export const WORD = table(ALNUM + '-.!%*_+`\'~()<>:\\"/[]?{}');
/** user = 1*( unreserved / escaped / user-unreserved ), '%' handled by the escape check */
export const USER = table(ALNUM + MARK + '&=+$,;?/');
/** password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ) */
export const PASSWORD = table(ALNUM + MARK + '&=+$,');
/** paramchar = param-unreserved / unreserved / escaped */
export const PARAMCHAR = table(ALNUM + MARK + '[]/:&+$');
/** hname / hvalue characters: hnv-unreserved / unreserved / escaped */
export const HNV = table(ALNUM + MARK + '[]/?:+$');
/** Host name characters (hostname, IPv4). '_' is not in the grammar but common in the wild. */
export const HOST = table(ALNUM + '-._');
/** scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (first character checked apart) */
export const SCHEME = table(ALNUM + '+-.');
/** uric = reserved / unreserved / escaped: the opaque part of an absoluteURI. */
export const URIC = table(ALNUM + MARK + ';/?:@&=+$,%');
/** tel: number characters (RFC 3966 phonedigit-hex, visual separators, '+'). */
export const TEL = table('0123456789abcdefABCDEF*#+-.()');

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] !== 1) return false;
  }
  return true;
}

export function allIn(set: Uint8Array, s: string, from = 0, to = s.length): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || set[c] !== 1) return false;
  }
  return true;
}

export function isWsp(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Index of the first non-SP/HTAB character at or after `i`. */
export function skipWsp(s: string, i: number): number {
  while (i < s.length && isWsp(s.charCodeAt(i))) i++;
  return i;
}

/** Trims SP and HTAB only (String.prototype.trim also eats NBSP and friends). */
export function trimWsp(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isWsp(s.charCodeAt(a))) a++;
  while (b > a && isWsp(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Index after the run of token characters starting at `i` (=== i when there is none). */
export function scanToken(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] !== 1) break;
    i++;
  }
  return i;
}

/**
 * Reads the quoted-string whose opening DQUOTE is at `i`. Returns the unescaped content
 * and the index after the closing DQUOTE. qdtext is LWS / %x21 / %x23-5B / %x5D-7E /
 * UTF8-NONASCII; quoted-pair is "\" followed by any octet but CR and LF.
 */
export function readQuoted(s: string, i: number, what: string): { value: string; end: number } {
  let value = '';
  let run = i + 1;
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 0x22) return { value: value + s.slice(run, j), end: j + 1 };
    if (c === 0x5c) {
      const next = s.charCodeAt(j + 1);
      if (j + 1 >= s.length || next === 0x0d || next === 0x0a || next >= 0x80) {
        throw new SipParseError(`${what}: bad quoted-pair in ${excerpt(s)}`);
      }
      value += s.slice(run, j);
      run = j + 1;
      j++;
      continue;
    }
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
      throw new SipParseError(`${what}: control character in quoted string ${excerpt(s)}`);
    }
  }
  throw new SipParseError(`${what}: unterminated quoted string in ${excerpt(s)}`);
}

/** Writes a quoted-string: DQUOTE and backslash, and the controls quoted-pair allows, escaped. */
export function quote(value: string): string {
  let out = '"';
  let run = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0d || c === 0x0a) throw new TypeError('a quoted string cannot carry CR or LF');
    if (c === 0x22 || c === 0x5c || (c < 0x20 && c !== 0x09) || c === 0x7f) {
      out += `${value.slice(run, i)}\\${value[i]}`;
      run = i + 1;
    }
  }
  return `${out}${value.slice(run)}"`;
}

/** Removes the DQUOTEs and quoted-pairs of a raw parameter value, if it is quoted. */
export function unquote(value: string): string {
  if (value.length < 2 || value.charCodeAt(0) !== 0x22) return value;
  return readQuoted(value, 0, 'parameter').value;
}
