/**
 * name-addr / addr-spec with header parameters: the value of From, To, Contact, Route,
 * Record-Route, Refer-To, P-Asserted-Identity... (RFC 3261 §20.10, §25.1).
 *
 * In name-addr form (`"Alice" <sip:alice@example.com;transport=tcp>;tag=1`) the URI
 * keeps its own parameters. In addr-spec form (`sip:alice@example.com;tag=1`) every
 * `;parameter` belongs to the header, and a URI containing a comma, question mark or
 * semicolon must be enclosed in `<>`, so an addr-spec with `?` or `,` is refused
 * (RFC 4475 §3.1.2.13).
 */
import { SipParseError, excerpt } from './sip-parse-error.js';
import { TOKEN, isWsp, quote, readQuoted, skipWsp, trimWsp } from './lexer.js';
import {
  formatHeaderParams,
  getParam,
  parseHeaderParams,
  withParam,
  type Params,
} from './params.js';
import { formatUri, parseUri, type Uri, type UriInit } from './uri.js';

export interface NameAddr {
  /** Unquoted and unescaped; undefined when there is none. */
  readonly displayName: string | undefined;
  readonly uri: Uri;
  /** Header parameters in order, values as written (a quoted value keeps its quotes). */
  readonly params: Params;
  /** The `tag` parameter (From, To). */
  readonly tag: string | undefined;
}

export interface NameAddrInit {
  readonly displayName?: string | undefined;
  /** A URI object, or URI text (validated). */
  readonly uri: UriInit | string;
  readonly params?: Params;
  /** When given, replaces the `tag` parameter (or appends it). */
  readonly tag?: string | undefined;
}

/** Parses one name-addr or addr-spec with its parameters; throws SipParseError (400). */
export function parseNameAddr(value: string, what = 'name-addr'): NameAddr {
  let i = skipWsp(value, 0);
  if (i >= value.length) throw new SipParseError(`${what}: empty value`);
  let displayName: string | undefined;
  if (value.charCodeAt(i) === 0x22) {
    const quoted = readQuoted(value, i, what);
    displayName = quoted.value;
    i = skipWsp(value, quoted.end);
    if (value.charCodeAt(i) !== 0x3c)
      throw new SipParseError(`${what}: expected '<' after the display name in ${excerpt(value)}`);
  } else {
    // display-name = *(token LWS): if a run of tokens and spaces ends at '<', it is one.
    let j = i;
    while (j < value.length) {
      const c = value.charCodeAt(j);
      if (!(isWsp(c) || (c < 128 && TOKEN[c] === 1))) break;
      j++;
    }
    if (value.charCodeAt(j) !== 0x3c) return parseAddrSpec(value, i, what);
    const name = trimWsp(value.slice(i, j));
    displayName = name === '' ? undefined : name;
    i = j;
  }
  const close = value.indexOf('>', i + 1);
  if (close === -1) throw new SipParseError(`${what}: missing '>' in ${excerpt(value)}`);
  const uri = parseUriIn(value.slice(i + 1, close), what);
  const params = parseHeaderParams(value, close + 1, what);
  return { displayName, uri, params, tag: tagOf(params) };
}

function parseAddrSpec(value: string, i: number, what: string): NameAddr {
  let end = value.indexOf(';', i);
  if (end === -1) end = value.length;
  const text = trimWsp(value.slice(i, end));
  if (text.includes('?') || text.includes(',')) {
    throw new SipParseError(
      `${what}: a URI with '?' or ',' must be enclosed in <> (${excerpt(value)})`,
    );
  }
  const uri = parseUriIn(text, what);
  const params = parseHeaderParams(value, end, what);
  return { displayName: undefined, uri, params, tag: tagOf(params) };
}

function parseUriIn(text: string, what: string): Uri {
  try {
    return parseUri(text);
  } catch (error) {
    if (error instanceof SipParseError) throw new SipParseError(`${what}: ${error.reason}`);
    throw error;
  }
}

function tagOf(params: Params): string | undefined {
  const tag = getParam(params, 'tag');
  return tag === null ? undefined : tag;
}

/** Always writes the name-addr form, so URI parameters can never be taken for header ones. */
export function formatNameAddr(init: NameAddrInit): string {
  let uri: string;
  if (typeof init.uri === 'string') {
    try {
      parseUri(init.uri);
    } catch {
      throw new TypeError(`not a URI: ${JSON.stringify(init.uri)}`);
    }
    uri = init.uri;
  } else {
    uri = formatUri(init.uri);
  }
  const params =
    init.tag !== undefined ? withParam(init.params ?? [], 'tag', init.tag) : (init.params ?? []);
  const name =
    init.displayName === undefined || init.displayName === '' ? '' : `${quote(init.displayName)} `;
  return `${name}<${uri}>${formatHeaderParams(params)}`;
}
