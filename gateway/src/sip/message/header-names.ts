/**
 * Header field names: case-insensitive, with compact forms (RFC 3261 §7.3.3 and the
 * extensions that registered one), the spelling written for a header we create, and
 * which headers are comma-separated lists.
 */

/** Compact form → lower-case full name (IANA SIP parameters registry). */
const COMPACT: Readonly<Record<string, string>> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

/** Spellings that title-casing would get wrong. */
const SPECIAL_CASE: Readonly<Record<string, string>> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  rack: 'RAck',
  rseq: 'RSeq',
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
  'identity-info': 'Identity-Info',
  'p-asserted-identity': 'P-Asserted-Identity',
  'p-preferred-identity': 'P-Preferred-Identity',
};

/**
 * Headers whose value is a comma-separated list (`#` or `1#` in the grammar), so
 * several values may share a line. The authentication headers and Date contain commas
 * inside a single value and are deliberately absent, as is every unknown header.
 */
const LIST_HEADERS: ReadonlySet<string> = new Set([
  'accept',
  'accept-contact',
  'accept-encoding',
  'accept-language',
  'alert-info',
  'allow',
  'allow-events',
  'call-info',
  'contact',
  'content-encoding',
  'content-language',
  'error-info',
  'history-info',
  'in-reply-to',
  'p-asserted-identity',
  'p-associated-uri',
  'p-preferred-identity',
  'path',
  'proxy-require',
  'reason',
  'record-route',
  'reject-contact',
  'request-disposition',
  'require',
  'route',
  'security-client',
  'security-server',
  'security-verify',
  'service-route',
  'supported',
  'unsupported',
  'via',
  'warning',
]);

/** Headers a request may carry once only: a second one makes the message ambiguous. */
export const SINGLE_HEADERS: readonly string[] = [
  'to',
  'from',
  'call-id',
  'cseq',
  'max-forwards',
  'content-length',
  'content-type',
];

/** Lower-case full name of `name` (compact forms expanded). */
export function headerKey(name: string): string {
  const lower = name.toLowerCase();
  return lower.length === 1 ? (COMPACT[lower] ?? lower) : lower;
}

/** The name written for a header Parley creates: the full form, conventionally cased. */
export function canonicalName(name: string): string {
  const key = headerKey(name);
  const special = SPECIAL_CASE[key];
  if (special !== undefined) return special;
  if (key !== name.toLowerCase() || isKnown(key)) {
    return key.replace(/(^|-)([a-z])/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase());
  }
  return name;
}

export function isListHeader(key: string): boolean {
  return LIST_HEADERS.has(key);
}

const KNOWN: ReadonlySet<string> = new Set([
  ...Object.values(COMPACT),
  ...LIST_HEADERS,
  ...SINGLE_HEADERS,
  'authorization',
  'authentication-info',
  'call-info',
  'content-disposition',
  'date',
  'expires',
  'max-forwards',
  'min-expires',
  'min-se',
  'organization',
  'priority',
  'proxy-authenticate',
  'proxy-authorization',
  'reply-to',
  'retry-after',
  'server',
  'timestamp',
  'user-agent',
  'replaces',
  'privacy',
]);

function isKnown(key: string): boolean {
  return KNOWN.has(key) || SPECIAL_CASE[key] !== undefined;
}

/**
 * Splits a list header value at the commas that separate elements: not inside a
 * quoted string, not inside `<...>`. Elements come back trimmed; with `strict`, an
 * empty element is an error (returns undefined), otherwise it is skipped.
 */
export function splitList(value: string, strict: boolean): string[] | undefined {
  const out: string[] = [];
  let start = 0;
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuote) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inQuote = false;
    } else if (c === 0x22) inQuote = true;
    else if (c === 0x3c) inAngle = true;
    else if (c === 0x3e) inAngle = false;
    else if (c === 0x2c && !inAngle) {
      if (!pushElement(out, value, start, i, strict)) return undefined;
      start = i + 1;
    }
  }
  if (!pushElement(out, value, start, value.length, strict)) return undefined;
  return out;
}

function pushElement(
  out: string[],
  value: string,
  from: number,
  to: number,
  strict: boolean,
): boolean {
  while (from < to && (value.charCodeAt(from) === 0x20 || value.charCodeAt(from) === 0x09)) from++;
  while (to > from && (value.charCodeAt(to - 1) === 0x20 || value.charCodeAt(to - 1) === 0x09))
    to--;
  if (from === to) return !strict;
  out.push(value.slice(from, to));
  return true;
}
