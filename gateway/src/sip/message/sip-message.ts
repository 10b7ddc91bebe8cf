/**
 * SIP requests and responses. The start line and the header lines are plain fields;
 * the structure of a header (Via, From, To, Contact, Route...) is parsed on first use
 * of its accessor and cached in the headers until that header changes. An accessor
 * throws SipParseError (400) when the header it reads is missing or malformed.
 * The body is bytes and is never decoded.
 */
import { SipParseError } from './sip-parse-error.js';
import { SipHeaders, type SipHeadersInit } from './sip-headers.js';
import { splitList } from './header-names.js';
import { parseCSeq, type CSeq } from './cseq.js';
import { parseNameAddr, type NameAddr } from './name-addr.js';
import { parseVia, type Via } from './via.js';
import { parseUri, type Uri } from './uri.js';

const EMPTY: Buffer = Buffer.alloc(0);
const NO_WARNINGS: readonly string[] = Object.freeze([]);

export abstract class SipMessage {
  abstract readonly type: 'request' | 'response';
  readonly headers: SipHeaders;
  /** The body octets; serialize() writes a Content-Length that matches. */
  body: Buffer;
  /**
   * What the parser accepted but noticed: a request without Max-Forwards, octets after
   * the body of a datagram, a datagram without Content-Length. Empty for built messages.
   */
  warnings: readonly string[] = NO_WARNINGS;

  constructor(headers: SipHeaders | SipHeadersInit | undefined, body: Buffer | string | undefined) {
    this.headers = headers instanceof SipHeaders ? headers : new SipHeaders(headers);
    this.body =
      body === undefined ? EMPTY : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  }

  get callId(): string {
    return this.#single('call-id', 'Call-ID');
  }

  get cseq(): CSeq {
    return this.headers.cached('cseq', () => parseCSeq(this.#single('cseq', 'CSeq')));
  }

  get from(): NameAddr {
    return this.headers.cached('from', () => parseNameAddr(this.#single('from', 'From'), 'From'));
  }

  get to(): NameAddr {
    return this.headers.cached('to', () => parseNameAddr(this.#single('to', 'To'), 'To'));
  }

  /** Every Via, topmost first. */
  get vias(): readonly Via[] {
    return this.headers.cached('via', () => {
      const vias = this.#list('via', 'Via').map(parseVia);
      if (vias.length === 0) throw new SipParseError('missing Via');
      return Object.freeze(vias);
    });
  }

  /** The topmost Via: the one a response goes back to and a transaction is matched on. */
  get via(): Via {
    return this.vias[0] as Via;
  }

  /** Contact values in order; empty for none and for `Contact: *` (see isWildcardContact). */
  get contacts(): readonly NameAddr[] {
    return this.headers.cached('contact', () => {
      const values = this.#list('contact', 'Contact');
      if (values.length === 1 && values[0] === '*') return Object.freeze([]);
      return Object.freeze(values.map((v) => parseNameAddr(v, 'Contact')));
    });
  }

  get contact(): NameAddr | undefined {
    return this.contacts[0];
  }

  /** `Contact: *` (a REGISTER removing every binding, RFC 3261 §10.2.2). */
  get isWildcardContact(): boolean {
    const values = this.#list('contact', 'Contact');
    return values.length === 1 && values[0] === '*';
  }

  get routes(): readonly NameAddr[] {
    return this.headers.cached('route', () =>
      Object.freeze(this.#list('route', 'Route').map((v) => parseNameAddr(v, 'Route'))),
    );
  }

  get recordRoutes(): readonly NameAddr[] {
    return this.headers.cached('record-route', () =>
      Object.freeze(
        this.#list('record-route', 'Record-Route').map((v) => parseNameAddr(v, 'Record-Route')),
      ),
    );
  }

  /** Undefined when absent (the parser reports that as a warning); 0–255 otherwise. */
  get maxForwards(): number | undefined {
    return this.headers.cached('max-forwards', () => {
      const lines = this.headers.getLines('max-forwards');
      if (lines.length === 0) return undefined;
      const value = this.#single('max-forwards', 'Max-Forwards');
      if (!/^\d{1,10}$/.test(value) || Number(value) > 255) {
        throw new SipParseError(`Max-Forwards: ${value.slice(0, 20)} is not in 0-255`);
      }
      return Number(value);
    });
  }

  /** The length of the body (what serialize() writes as Content-Length). */
  get contentLength(): number {
    return this.body.length;
  }

  get contentType(): string | undefined {
    return this.headers.get('content-type');
  }

  #single(key: string, name: string): string {
    const lines = this.headers.getLines(key);
    if (lines.length === 0) throw new SipParseError(`missing ${name}`);
    if (lines.length > 1) throw new SipParseError(`more than one ${name}`);
    return lines[0] as string;
  }

  /** List elements of every line of `key`; an empty element is an error (RFC 4475 §3.1.2.1). */
  #list(key: string, name: string): string[] {
    const out: string[] = [];
    for (const line of this.headers.getLines(key)) {
      const elements = splitList(line, true);
      if (elements === undefined)
        throw new SipParseError(`${name}: empty list element in ${line.slice(0, 60)}`);
      out.push(...elements);
    }
    return out;
  }
}

export interface SipRequestInit {
  readonly method: string;
  readonly requestUri: string;
  readonly headers?: SipHeaders | SipHeadersInit;
  readonly body?: Buffer | string;
}

export class SipRequest extends SipMessage {
  readonly type = 'request' as const;
  method: string;
  requestUri: string;
  #uri: { text: string; uri: Uri } | undefined;

  constructor(init: SipRequestInit) {
    super(init.headers, init.body);
    this.method = init.method;
    this.requestUri = init.requestUri;
  }

  /** The Request-URI parsed (cached while requestUri is unchanged). */
  get uri(): Uri {
    if (this.#uri?.text !== this.requestUri) {
      this.#uri = { text: this.requestUri, uri: parseUri(this.requestUri) };
    }
    return this.#uri.uri;
  }
}

export interface SipResponseInit {
  readonly status: number;
  readonly reason: string;
  readonly headers?: SipHeaders | SipHeadersInit;
  readonly body?: Buffer | string;
}

export class SipResponse extends SipMessage {
  readonly type = 'response' as const;
  status: number;
  reason: string;

  constructor(init: SipResponseInit) {
    super(init.headers, init.body);
    this.status = init.status;
    this.reason = init.reason;
  }
}
