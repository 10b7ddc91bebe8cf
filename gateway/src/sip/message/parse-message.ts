/**
 * Parsing a SIP message (RFC 3261 §7) from a datagram or a WebSocket message, cheaply:
 * one search for the empty line, one UTF-8 check and one split of the header section
 * into lines; the start line, Content-Length, CSeq and the presence of the mandatory
 * headers are checked now, the structure of every other header only when asked
 * (see SipMessage). `validate: true` (or validateMessage) checks the rest up front.
 */
import { isUtf8 } from 'node:buffer';
import { SipParseError, excerpt } from './sip-parse-error.js';
import { SINGLE_HEADERS, canonicalName, headerKey } from './header-names.js';
import { SCHEME, TOKEN, isToken, isWsp, trimWsp } from './lexer.js';
import { SipHeaders, type HeaderLine } from './sip-headers.js';
import { SipRequest, SipResponse } from './sip-message.js';
import { validateMessage, type ValidateOptions } from './validate.js';

/** Larger than any UDP datagram (65,507 octets of payload), small enough to bound memory. */
export const DEFAULT_MAX_MESSAGE_BYTES = 65_535;

export interface ParseOptions {
  /** Refuse (413 or 513, see readOversized) anything larger. Default {@link DEFAULT_MAX_MESSAGE_BYTES}. */
  readonly maxBytes?: number;
  /**
   * True (the default) for a UDP datagram: octets after Content-Length are ignored and
   * a missing Content-Length means the body runs to the end (RFC 3261 §18.3). False for
   * data already delimited as one message (a WebSocket message, a framed stream
   * message): octets beyond Content-Length are then an error, not noise.
   */
  readonly datagram?: boolean;
  /** Also run validateMessage (every core header parsed, Request-URI scheme checked). */
  readonly validate?: boolean | ValidateOptions;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/**
 * Parses one message as it arrives in a datagram (or WebSocket message): leading CRLFs
 * are skipped (§7.5), the body is Content-Length octets and anything after it is
 * ignored (§18.3); without Content-Length the body runs to the end of the data.
 * Throws SipParseError, and nothing else, for bad input.
 */
export function parseMessage(
  data: Buffer | string,
  options?: ParseOptions,
): SipRequest | SipResponse {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const maxBytes = options?.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (buf.length > maxBytes) throw oversized(buf, maxBytes).error;
  let start = 0;
  while (buf[start] === 0x0d && buf[start + 1] === 0x0a) start += 2;
  if (start >= buf.length) throw new SipParseError('no message, only CRLF');
  const headEnd = buf.indexOf(CRLFCRLF, start);
  if (headEnd === -1) throw new SipParseError('no empty line after the header fields');
  const head = scanHead(buf, start, headEnd);
  if (head.error !== undefined) throw head.error;
  if (head.framingError !== undefined) throw head.framingError;
  const bodyStart = headEnd + 4;
  const available = buf.length - bodyStart;
  const warnings: string[] = [];
  let length = available;
  if (head.contentLength === undefined) {
    if (available > 0) warnings.push('no Content-Length: the body runs to the end of the data');
  } else {
    if (head.contentLength > available) {
      throw new SipParseError(
        `Content-Length ${head.contentLength} is larger than the ${available} octets received`,
      );
    }
    length = head.contentLength;
    if (available > length) {
      if (options?.datagram === false) {
        throw new SipParseError(
          `${available - length} octets after the Content-Length ${length} body`,
        );
      }
      warnings.push(`${available - length} octets after the body ignored`);
    }
  }
  const body = Buffer.from(buf.subarray(bodyStart, bodyStart + length));
  const message = finishMessage(head, body, warnings);
  if (options?.validate)
    validateMessage(message, options.validate === true ? undefined : options.validate);
  return message;
}

/**
 * What can be read of a datagram or WebSocket message refused for its size, so that a
 * request can still be answered (RFC 3261 §8.2.6: Via, From, To, Call-ID and CSeq are all
 * a response needs): the error to refuse it with, and its head as a message without a
 * body when that parses. The status says what was too large: 513 Message Too Large
 * (§21.5.14) when the header section alone is over the limit, 413 Request Entity Too
 * Large (§21.4.11) when only the body makes it so. Never throws.
 */
export function readOversized(
  data: Buffer,
  maxBytes: number,
): { error: SipParseError; message: SipRequest | SipResponse | undefined } {
  const { error, start, headEnd } = oversized(data, maxBytes);
  if (headEnd === -1) return { error, message: undefined };
  const head = scanHead(data, start, headEnd);
  if (head.error !== undefined || head.framingError !== undefined)
    return { error, message: undefined };
  try {
    return { error, message: finishMessage(head, Buffer.alloc(0), []) };
  } catch {
    return { error, message: undefined };
  }
}

function oversized(
  buf: Buffer,
  maxBytes: number,
): { error: SipParseError; start: number; headEnd: number } {
  let start = 0;
  while (buf[start] === 0x0d && buf[start + 1] === 0x0a) start += 2;
  const headEnd = buf.indexOf(CRLFCRLF, start);
  const error =
    headEnd === -1 || headEnd + 4 - start > maxBytes
      ? new SipParseError(
          `header section of a ${buf.length}-octet message is larger than ${maxBytes}`,
          513,
        )
      : new SipParseError(`message of ${buf.length} octets is larger than ${maxBytes}`, 413);
  return { error, start, headEnd };
}

/** @internal The start line and header lines of a message, scanned but not yet checked. */
export interface RawHead {
  readonly request: boolean;
  readonly method: string;
  readonly requestUri: string;
  readonly status: number;
  readonly reason: string;
  readonly lines: HeaderLine[];
  /** Undefined when there is no Content-Length header. */
  readonly contentLength: number | undefined;
  /** The first syntax error of the start line or of a header line. */
  readonly error: SipParseError | undefined;
  /** Content-Length repeated or not a number: the body cannot be delimited. */
  readonly framingError: SipParseError | undefined;
  /** The first line is not a SIP start line at all (TLS, HTTP, noise). */
  readonly garbage: boolean;
}

/**
 * @internal Scans buf[start, end) (the header section without its final CRLFCRLF).
 * Never throws: problems are returned, so a stream can still skip a bad message's body.
 */
export function scanHead(buf: Buffer, start: number, end: number): RawHead {
  const head = {
    request: true,
    method: '',
    requestUri: '',
    status: 0,
    reason: '',
    lines: [] as HeaderLine[],
    contentLength: undefined as number | undefined,
    error: undefined as SipParseError | undefined,
    framingError: undefined as SipParseError | undefined,
    garbage: false,
  };
  const section = buf.subarray(start, end);
  if (!isUtf8(section)) {
    head.error = new SipParseError('the start line or header fields are not UTF-8');
    head.garbage = !looksLikeSip(section.toString('latin1', 0, Math.min(section.length, 256)));
    scanContentLength(section.toString('latin1'), head);
    return head;
  }
  const text = section.toString('utf8');
  const rows = text.split('\r\n');
  const startLine = rows[0] ?? '';
  head.error = parseStartLine(startLine, head);
  if (head.error !== undefined) head.garbage = !looksLikeSip(startLine);

  let name = '';
  let value = '';
  const flush = (): void => {
    if (name !== '') head.lines.push({ name, key: headerKey(name), value });
  };
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r] as string;
    if (row.includes('\r') || row.includes('\n')) {
      head.error ??= new SipParseError(`bare CR or LF in header line ${excerpt(row)}`);
      continue;
    }
    if (isWsp(row.charCodeAt(0))) {
      // Folding (RFC 3261 §7.3.1): the continuation and the CRLF before it become one SP.
      if (name === '') {
        head.error ??= new SipParseError(
          `continuation line with no header before it: ${excerpt(row)}`,
        );
        continue;
      }
      const more = trimWsp(row);
      if (more !== '') value = value === '' ? more : `${value} ${more}`;
      continue;
    }
    flush();
    name = '';
    const colon = row.indexOf(':');
    const rowName = colon === -1 ? '' : trimWsp(row.slice(0, colon));
    if (!isToken(rowName)) {
      head.error ??= new SipParseError(`bad header line ${excerpt(row)}`);
      continue;
    }
    name = rowName;
    value = trimWsp(row.slice(colon + 1));
  }
  flush();

  for (const line of head.lines) {
    if (line.key !== 'content-length') continue;
    if (head.contentLength !== undefined || head.framingError !== undefined) {
      head.framingError = new SipParseError('more than one Content-Length');
      break;
    }
    setContentLength(line.value, head);
  }
  return head;
}

function setContentLength(
  value: string,
  head: { contentLength: number | undefined; framingError: SipParseError | undefined },
): void {
  if (!/^\d+$/.test(value)) {
    head.framingError = new SipParseError(`bad Content-Length ${excerpt(value, 20)}`);
    return;
  }
  head.contentLength = value.length > 15 ? Number.MAX_SAFE_INTEGER : Number(value);
}

/** Best effort for a section that is not UTF-8: find Content-Length so a stream can skip the body. */
function scanContentLength(
  text: string,
  head: { contentLength: number | undefined; framingError: SipParseError | undefined },
): void {
  for (const row of text.split('\r\n').slice(1)) {
    const colon = row.indexOf(':');
    if (colon === -1) continue;
    const key = headerKey(trimWsp(row.slice(0, colon)));
    if (key !== 'content-length') continue;
    if (head.contentLength !== undefined || head.framingError !== undefined) {
      head.framingError = new SipParseError('more than one Content-Length');
      return;
    }
    setContentLength(trimWsp(row.slice(colon + 1)), head);
  }
}

function parseStartLine(
  line: string,
  head: { request: boolean; method: string; requestUri: string; status: number; reason: string },
): SipParseError | undefined {
  if (line.length >= 4 && line.slice(0, 4).toUpperCase() === 'SIP/') {
    head.request = false;
    const sp = line.indexOf(' ');
    if (sp === -1) return new SipParseError(`bad Status-Line ${excerpt(line)}`);
    const versionError = checkVersion(line.slice(0, sp));
    if (versionError !== undefined) return versionError;
    const code = line.slice(sp + 1, sp + 4);
    const after = line.charCodeAt(sp + 4);
    if (!/^[1-6]\d\d$/.test(code) || (sp + 4 < line.length && after !== 0x20)) {
      return new SipParseError(`bad Status-Code in ${excerpt(line)}`);
    }
    head.status = Number(code);
    head.reason = line.slice(sp + 5);
    for (let i = 0; i < head.reason.length; i++) {
      const c = head.reason.charCodeAt(i);
      if ((c < 0x20 && c !== 0x09) || c === 0x7f)
        return new SipParseError(`control character in Reason-Phrase ${excerpt(line)}`);
    }
    return undefined;
  }
  // Request-Line = Method SP Request-URI SP SIP-Version: exactly one SP between the three
  // (RFC 4475 §3.1.2.9, §3.1.2.10 and §3.1.2.8 are refused here).
  const first = line.indexOf(' ');
  const second = first === -1 ? -1 : line.indexOf(' ', first + 1);
  if (first === -1 || second === -1 || line.indexOf(' ', second + 1) !== -1) {
    return new SipParseError(
      `Request-Line is not Method SP Request-URI SP SIP-Version: ${excerpt(line)}`,
    );
  }
  const method = line.slice(0, first);
  const uri = line.slice(first + 1, second);
  const versionError = checkVersion(line.slice(second + 1));
  if (versionError !== undefined) return versionError;
  if (!isToken(method)) return new SipParseError(`bad Method in ${excerpt(line)}`);
  if (!isRequestUriText(uri)) return new SipParseError(`bad Request-URI ${excerpt(uri)}`);
  head.method = method;
  head.requestUri = uri;
  return undefined;
}

/** SIP/2.0 only (case-insensitive): another version is 505, anything else 400. */
function checkVersion(version: string): SipParseError | undefined {
  if (version.length === 7 && version.toUpperCase() === 'SIP/2.0') return undefined;
  if (/^SIP\/\d+\.\d+$/i.test(version))
    return new SipParseError(`SIP version ${version} not supported`, 505);
  return new SipParseError(`bad SIP-Version ${excerpt(version, 20)}`);
}

/** scheme ":" followed by printable ASCII: `<sip:...>` (§3.1.2.7) and LWS are refused. */
function isRequestUriText(uri: string): boolean {
  const colon = uri.indexOf(':');
  if (colon <= 0 || colon === uri.length - 1) return false;
  const c0 = uri.charCodeAt(0) | 0x20;
  if (c0 < 0x61 || c0 > 0x7a) return false;
  for (let i = 1; i < colon; i++) {
    const c = uri.charCodeAt(i);
    if (c >= 128 || SCHEME[c] !== 1) return false;
  }
  for (let i = colon + 1; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/** Whether a first line that failed to parse still looks like SIP (worth skipping, not closing). */
function looksLikeSip(line: string): boolean {
  if (/^SIP\/\d/i.test(line)) return true;
  const sp = line.indexOf(' ');
  if (sp <= 0) return false;
  for (let i = 0; i < sp; i++) {
    const c = line.charCodeAt(i);
    if (c >= 128 || TOKEN[c] !== 1) return false;
  }
  return /\bSIP\/\d/i.test(line);
}

/**
 * @internal Builds the message from a scanned head and its body: checks the headers a
 * message cannot be handled without (RFC 3261 §8.1.1), the single-valued ones, and CSeq.
 */
export function finishMessage(
  head: RawHead,
  body: Buffer,
  warnings: string[],
): SipRequest | SipResponse {
  const counts = new Map<string, number>();
  for (const line of head.lines) counts.set(line.key, (counts.get(line.key) ?? 0) + 1);
  for (const key of SINGLE_HEADERS) {
    if ((counts.get(key) ?? 0) > 1) throw new SipParseError(`more than one ${canonicalName(key)}`);
  }
  for (const key of ['via', 'to', 'from', 'call-id', 'cseq']) {
    if (!counts.has(key)) throw new SipParseError(`missing ${canonicalName(key)}`);
  }
  const headers = SipHeaders.fromParsedLines(head.lines);
  const message = head.request
    ? new SipRequest({ method: head.method, requestUri: head.requestUri, headers, body })
    : new SipResponse({ status: head.status, reason: head.reason, headers, body });
  if (message.callId === '') throw new SipParseError('empty Call-ID');
  // CSeq is read now: a request whose CSeq method differs from its own is refused (§8.2).
  const cseq = message.cseq;
  if (message.type === 'request') {
    if (cseq.method !== message.method) {
      throw new SipParseError(
        `CSeq method ${cseq.method} does not match the request method ${message.method}`,
      );
    }
    if (!counts.has('max-forwards')) warnings.push('no Max-Forwards');
  }
  if (warnings.length > 0) message.warnings = Object.freeze(warnings);
  return message;
}
