/**
 * A SIP message as a peer logged it, with just enough parsing for test
 * assertions (start line, headers in order, body). Not a SIP parser for
 * production: header values are kept verbatim, compact forms are expanded
 * only for lookup.
 */
export interface SipMessage {
  /** `in` = received by the peer that logged it. */
  readonly direction: 'in' | 'out';
  /** `UDP`, `TCP`, `TLS`, … as logged. */
  readonly transport: string;
  readonly source: string;
  readonly destination: string;
  /** The request method, or undefined for a response. */
  readonly method: string | undefined;
  /** The response status, or undefined for a request. */
  readonly status: number | undefined;
  readonly startLine: string;
  /** Headers in order, names as sent. */
  readonly headers: readonly (readonly [name: string, value: string])[];
  readonly body: string;
  /** The whole message as logged (CRLF line ends). */
  readonly raw: string;
  /** Milliseconds (Date.now()) when the testkit read it. */
  readonly loggedAt: number;
  /** First value of a header, case-insensitive, compact forms understood. */
  header(name: string): string | undefined;
  /** Every value of a header (repeated headers, not comma-split). */
  headerAll(name: string): readonly string[];
}

const COMPACT: Record<string, string> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
};

function canonical(name: string): string {
  const lower = name.trim().toLowerCase();
  return COMPACT[lower] ?? lower;
}

/** Parses one raw SIP message (headers, blank line, body). */
export function parseSipMessage(
  raw: string,
  meta: Pick<SipMessage, 'direction' | 'transport' | 'source' | 'destination'> & {
    loggedAt?: number;
  },
): SipMessage {
  const normalised = raw.replace(/\r\n/g, '\n');
  const split = normalised.indexOf('\n\n');
  const head = split >= 0 ? normalised.slice(0, split) : normalised;
  const body = split >= 0 ? normalised.slice(split + 2) : '';
  const [startLine = '', ...headerLines] = head.split('\n');
  const headers: [string, string][] = [];
  for (const line of headerLines) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      const last = headers[headers.length - 1];
      if (last) last[1] += ` ${line.trim()}`; // RFC 3261 §7.3.1 folding
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  const response = /^SIP\/2\.0\s+(\d{3})/.exec(startLine);
  const request = /^([A-Z]+)\s+\S+\s+SIP\/2\.0/.exec(startLine);
  const headerAll = (name: string): string[] => {
    const wanted = canonical(name);
    return headers.filter(([n]) => canonical(n) === wanted).map(([, v]) => v);
  };
  return {
    ...meta,
    loggedAt: meta.loggedAt ?? Date.now(),
    method: request?.[1],
    status: response?.[1] ? Number(response[1]) : undefined,
    startLine,
    headers,
    body: body.replace(/\n/g, '\r\n'),
    raw,
    header: (name) => headerAll(name)[0],
    headerAll,
  };
}

/**
 * The requests of a log, one per transaction: a retransmission (same method,
 * same top Via branch: RFC 3261 §17) is dropped, the first copy kept. Counting
 * requests a peer received is counting transactions, or a loaded machine's
 * late response (which draws a retransmission) adds one.
 */
export function distinctTransactions(requests: readonly SipMessage[]): SipMessage[] {
  const seen = new Set<string>();
  return requests.filter((m) => {
    const branch = /;branch=([^;,\s]+)/i.exec(m.header('via') ?? '')?.[1];
    if (branch === undefined) return true;
    const key = `${m.method ?? ''} ${branch}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
