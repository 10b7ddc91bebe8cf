/**
 * Building a response to a request (RFC 3261 §8.2.6): Via (every value, in order), From,
 * To, Call-ID and CSeq are copied as they came; a To tag is added only when asked (a
 * UAS adds one to every response except 100, §8.2.6.2); Timestamp is copied into a 100
 * (§8.2.6.1); Record-Route is copied, in order, into a response that establishes a
 * dialog (§12.1.1). Header values are copied verbatim, never re-formatted.
 */
import { isToken } from './lexer.js';
import { SipHeaders, type SipHeadersInit } from './sip-headers.js';
import { SipResponse, type SipRequest } from './sip-message.js';
import { generateTag } from './ids.js';

export interface CreateResponseOptions {
  /** Add this To tag (or a generated one for `true`) when the request's To has none. */
  readonly toTag?: string | true | undefined;
  /** Headers appended after the copied ones. */
  readonly headers?: SipHeadersInit | undefined;
  readonly body?: Buffer | string | undefined;
}

/** Methods whose out-of-dialog request creates a dialog (RFC 3261 §12.1; RFC 6665 §4.1, §4.2; RFC 3515). */
const DIALOG_CREATING: ReadonlySet<string> = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY']);

/**
 * RFC 3261 §12.1.1: a response that establishes a dialog (a 101-199 or 2xx to a
 * dialog-creating request outside any dialog) carries the request's Record-Route, so the
 * proxies that record-routed see the route set and the UAC builds its own from it.
 */
function establishesDialog(request: SipRequest, status: number): boolean {
  return (
    status > 100 &&
    status < 300 &&
    DIALOG_CREATING.has(request.method) &&
    request.to.tag === undefined
  );
}

const OPTION_KEYS: ReadonlySet<string> = new Set(['toTag', 'headers', 'body']);

function isOptions(value: SipHeadersInit | CreateResponseOptions): value is CreateResponseOptions {
  if (Symbol.iterator in value) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => OPTION_KEYS.has(k));
}

/** RFC 3261 §21 and the extensions a gateway meets. */
export const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Trying',
  180: 'Ringing',
  181: 'Call Is Being Forwarded',
  182: 'Queued',
  183: 'Session Progress',
  199: 'Early Dialog Terminated',
  200: 'OK',
  202: 'Accepted',
  204: 'No Notification',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Moved Temporarily',
  305: 'Use Proxy',
  380: 'Alternative Service',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  410: 'Gone',
  412: 'Conditional Request Failed',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme',
  417: 'Unknown Resource-Priority',
  420: 'Bad Extension',
  421: 'Extension Required',
  422: 'Session Interval Too Small',
  423: 'Interval Too Brief',
  428: 'Use Identity Header',
  429: 'Provide Referrer Identity',
  430: 'Flow Failed',
  433: 'Anonymity Disallowed',
  436: 'Bad Identity-Info',
  437: 'Unsupported Certificate',
  438: 'Invalid Identity Header',
  439: 'First Hop Lacks Outbound Support',
  440: 'Max-Breadth Exceeded',
  469: 'Bad Info Package',
  470: 'Consent Needed',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  483: 'Too Many Hops',
  484: 'Address Incomplete',
  485: 'Ambiguous',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  489: 'Bad Event',
  491: 'Request Pending',
  493: 'Undecipherable',
  494: 'Security Agreement Required',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Server Time-out',
  505: 'Version Not Supported',
  513: 'Message Too Large',
  555: 'Push Notification Service Not Supported',
  580: 'Precondition Failure',
  600: 'Busy Everywhere',
  603: 'Decline',
  604: 'Does Not Exist Anywhere',
  606: 'Not Acceptable',
  607: 'Unwanted',
  608: 'Rejected',
};

const CLASS_REASONS = [
  '',
  'Provisional',
  'Success',
  'Redirection',
  'Client Error',
  'Server Error',
  'Global Failure',
];

export function reasonPhrase(status: number): string {
  return REASON_PHRASES[status] ?? CLASS_REASONS[Math.floor(status / 100)] ?? '';
}

/**
 * `extra` is either the headers to add or the options (To tag, headers, body), so both
 * `createResponse(req, 486, undefined, { 'Retry-After': '30' })` and
 * `createResponse(req, 200, undefined, { toTag: true, body })` read naturally.
 */
export function createResponse(
  request: SipRequest,
  status: number,
  reason?: string,
  extra?: SipHeadersInit | CreateResponseOptions,
): SipResponse {
  const options: CreateResponseOptions | undefined =
    extra === undefined ? undefined : isOptions(extra) ? extra : { headers: extra };
  const extraHeaders = options?.headers;
  if (!Number.isInteger(status) || status < 100 || status > 699)
    throw new RangeError(`bad status ${status}`);
  const headers = new SipHeaders();
  for (const via of request.headers.getLines('via')) headers.append('Via', via);
  if (establishesDialog(request, status)) {
    // Every value, URI and parameters as they came, in order (§12.1.1).
    for (const value of request.headers.getLines('record-route'))
      headers.append('Record-Route', value);
  }
  for (const key of ['from', 'to', 'call-id', 'cseq']) {
    for (const value of request.headers.getLines(key)) headers.append(key, value);
  }
  if (options?.toTag !== undefined && request.to.tag === undefined) {
    const tag = options.toTag === true ? generateTag() : options.toTag;
    if (!isToken(tag)) throw new TypeError(`bad To tag ${JSON.stringify(tag)}`);
    headers.set('To', `${request.headers.get('to') ?? ''};tag=${tag}`);
  }
  if (status === 100) {
    for (const value of request.headers.getLines('timestamp')) headers.append('Timestamp', value);
  }
  if (extraHeaders !== undefined) {
    for (const [name, value] of new SipHeaders(extraHeaders)) headers.append(name, value);
  }
  const body = options?.body === undefined ? undefined : options.body;
  const response = new SipResponse({
    status,
    reason: reason ?? reasonPhrase(status),
    headers,
    body,
  });
  headers.set('Content-Length', String(response.body.length));
  return response;
}
