/**
 * Framing SIP on a byte stream (TCP, TLS, or WebSocket used as a stream): feed chunks as
 * they arrive, get back complete messages and keep-alives.
 *
 * - A message on a stream MUST carry Content-Length (RFC 3261 §18.3, §20.14): without
 *   it, or with a bad or repeated one, the stream cannot be framed any more: a fatal
 *   error, and the transport closes the connection.
 * - RFC 5626 §3.5.1 keep-alives between messages: CRLFCRLF is a `ping` (answer with
 *   CRLF), a lone CRLF a `pong`. A ping split across two chunks shows up as a `pong`
 *   followed by a `ping`, so it is still answered.
 * - A message larger than maxBytes is never buffered. When its head fits, its body is
 *   skipped as it streams by (Content-Length still frames the stream) and a non-fatal
 *   413 error carries the head, so the transport can answer 413 (RFC 3261 §21.4.11: the
 *   body is what is too large). A body that would take more than maxSkipBytes to skip
 *   (a Content-Length of gigabytes) is the same 413 but fatal: the transport answers
 *   and closes the connection instead of reading it for minutes. A header section larger
 *   than maxBytes is fatal (513,
 *   §21.5.14, with nothing to answer on): whether its end came in the same chunk or not,
 *   the connection is closed, so the outcome does not depend on how TCP cut the bytes.
 * - A well-framed message that does not parse is a non-fatal error (answer 400 and go
 *   on); bytes that are not SIP at all (TLS, HTTP, noise) are fatal.
 * After a fatal error every further byte is ignored until reset().
 */
import { SipParseError } from './sip-parse-error.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  finishMessage,
  scanHead,
  type RawHead,
} from './parse-message.js';
import { validateMessage, type ValidateOptions } from './validate.js';
import type { SipRequest, SipResponse } from './sip-message.js';

export type SipStreamEvent =
  | { readonly type: 'message'; readonly message: SipRequest | SipResponse }
  /** CRLFCRLF: the peer checks the flow is alive; answer with a single CRLF. */
  | { readonly type: 'ping' }
  /** A lone CRLF: the answer to our ping. */
  | { readonly type: 'pong' }
  | {
      readonly type: 'error';
      readonly error: SipParseError;
      /**
       * The stream cannot be framed any more: close the connection (after answering
       * `message`, when there is one).
       */
      readonly fatal: boolean;
      /**
       * What could be parsed, so a request can still be answered: the head of a message
       * refused whole (413), or a message that parsed but failed validation.
       */
      readonly message?: SipRequest | SipResponse;
    };

export interface SipStreamDecoderOptions {
  /** Largest message accepted, head and body. Default {@link DEFAULT_MAX_MESSAGE_BYTES}. */
  readonly maxBytes?: number;
  /**
   * Largest body of a refused message skipped to keep the connection; beyond it the
   * 413 is fatal. Default {@link DEFAULT_MAX_SKIP_BYTES}.
   */
  readonly maxSkipBytes?: number;
  /** Run validateMessage on every message (a failure is a non-fatal error). */
  readonly validate?: boolean | ValidateOptions;
}

/** 1 MiB: a body a confused client might send, not a stream to read for minutes. */
export const DEFAULT_MAX_SKIP_BYTES = 1 << 20;

const CR = 0x0d;
const LF = 0x0a;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

export class SipStreamDecoder {
  readonly #maxBytes: number;
  readonly #maxSkipBytes: number;
  readonly #validate: ValidateOptions | undefined;
  readonly #validateOn: boolean;
  #buf: Buffer = EMPTY;
  #start = 0;
  #end = 0;
  /** Bytes from #start already searched for CRLFCRLF without success. */
  #scanned = 0;
  #state: 'head' | 'body' | 'skip' | 'failed' = 'head';
  #head: RawHead | undefined;
  #headLength = 0;
  #bodyLength = 0;
  #skip = 0;
  #loneCrlf = false;

  constructor(options?: SipStreamDecoderOptions) {
    this.#maxBytes = options?.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#maxSkipBytes = options?.maxSkipBytes ?? DEFAULT_MAX_SKIP_BYTES;
    this.#validateOn = options?.validate !== undefined && options.validate !== false;
    this.#validate = typeof options?.validate === 'object' ? options.validate : undefined;
  }

  /** True after a fatal error: the transport should close the connection. */
  get failed(): boolean {
    return this.#state === 'failed';
  }

  /** Bytes held while waiting for the rest of a message. */
  get bufferedBytes(): number {
    return this.#end - this.#start;
  }

  /**
   * True while a message has begun but is not complete (bytes of its head or
   * body held, or an oversized body being skipped): the transport's deadline
   * for a message to complete runs while this holds.
   */
  get inMessage(): boolean {
    return this.#state === 'skip' || this.#state === 'body' || this.#end > this.#start;
  }

  /** Forgets everything buffered and any failure (a new connection). */
  reset(): void {
    this.#buf = EMPTY;
    this.#start = this.#end = this.#scanned = 0;
    this.#state = 'head';
    this.#head = undefined;
    this.#skip = 0;
    this.#loneCrlf = false;
  }

  /** Feeds the next chunk; returns what it completed, in order. Never throws for bad input. */
  push(chunk: Buffer): SipStreamEvent[] {
    const events: SipStreamEvent[] = [];
    if (this.#state === 'failed') return events;
    let data = chunk;
    if (this.#state === 'skip') {
      const n = Math.min(this.#skip, data.length);
      this.#skip -= n;
      data = data.subarray(n);
      if (this.#skip > 0) return events;
      this.#state = 'head';
    }
    if (data.length > 0) this.#append(data);
    this.#drain(events);
    if (this.#start === this.#end && !this.failed) {
      this.#start = this.#end = 0;
      if (this.#buf.length > 4 * 65_536) this.#buf = EMPTY;
    }
    return events;
  }

  #drain(events: SipStreamEvent[]): void {
    for (;;) {
      if (this.#state === 'head') {
        if (!this.#keepAlives(events)) return;
        if (!this.#readHead(events)) return;
      }
      if (this.#state === 'skip') return;
      if (this.#state === 'body') {
        if (!this.#readBody(events)) return;
        continue;
      }
      if (this.#state === 'failed') return;
    }
  }

  /** Consumes CRLF keep-alives; false when more bytes are needed before anything else. */
  #keepAlives(events: SipStreamEvent[]): boolean {
    const b = this.#buf;
    while (this.#end - this.#start >= 2 && b[this.#start] === CR && b[this.#start + 1] === LF) {
      const avail = this.#end - this.#start;
      if (this.#loneCrlf) {
        // The second half of a ping whose first CRLF ended the previous chunk.
        this.#loneCrlf = false;
        events.push({ type: 'ping' });
        this.#start += 2;
      } else if (avail >= 4 && b[this.#start + 2] === CR && b[this.#start + 3] === LF) {
        events.push({ type: 'ping' });
        this.#start += 4;
      } else if (avail === 3 && b[this.#start + 2] === CR) {
        return false;
      } else {
        events.push({ type: 'pong' });
        this.#start += 2;
        this.#loneCrlf = this.#start === this.#end;
      }
    }
    if (this.#start === this.#end) return false;
    if (this.#end - this.#start === 1 && b[this.#start] === CR) return false;
    this.#loneCrlf = false;
    return true;
  }

  /** Finds and scans the next head; false when more bytes are needed (or after failing). */
  #readHead(events: SipStreamEvent[]): boolean {
    const from = this.#start + Math.max(0, this.#scanned - 3);
    const headEnd = this.#buf.subarray(0, this.#end).indexOf(CRLFCRLF, from);
    if (headEnd === -1) {
      this.#scanned = this.#end - this.#start;
      if (this.#scanned > this.#maxBytes) {
        this.#fail(
          events,
          new SipParseError(`header section larger than ${this.#maxBytes} octets`, 513),
        );
      } else if (this.#firstLineIsGarbage()) {
        this.#fail(events, new SipParseError('not a SIP start line'));
      }
      return false;
    }
    this.#scanned = 0;
    const head = scanHead(this.#buf, this.#start, headEnd);
    if (head.garbage)
      return this.#fail(events, head.error ?? new SipParseError('not a SIP start line'));
    if (head.framingError !== undefined) return this.#fail(events, head.framingError);
    if (head.contentLength === undefined) {
      return this.#fail(events, new SipParseError('no Content-Length on a stream transport'));
    }
    const headLength = headEnd + 4 - this.#start;
    if (headLength > this.#maxBytes) {
      return this.#fail(
        events,
        new SipParseError(`header section larger than ${this.#maxBytes} octets`, 513),
      );
    }
    if (headLength + head.contentLength > this.#maxBytes) {
      let partial: SipRequest | SipResponse | undefined;
      if (head.error === undefined) {
        try {
          partial = finishMessage(head, EMPTY, []);
        } catch {
          partial = undefined;
        }
      }
      const error = new SipParseError(
        `message of ${headLength + head.contentLength} octets is larger than ${this.#maxBytes}`,
        413,
      );
      this.#start += headLength;
      const n = Math.min(head.contentLength, this.#end - this.#start);
      this.#start += n;
      const skip = head.contentLength - n;
      const fatal = skip > this.#maxSkipBytes;
      events.push(
        partial === undefined
          ? { type: 'error', error, fatal }
          : { type: 'error', error, fatal, message: partial },
      );
      if (fatal) return this.#stop();
      this.#skip = skip;
      if (this.#skip > 0) this.#state = 'skip';
      return this.#skip === 0;
    }
    this.#head = head;
    this.#headLength = headLength;
    this.#bodyLength = head.contentLength;
    this.#state = 'body';
    return true;
  }

  #readBody(events: SipStreamEvent[]): boolean {
    const bodyStart = this.#start + this.#headLength;
    if (this.#end - bodyStart < this.#bodyLength) return false;
    const head = this.#head as RawHead;
    const body = Buffer.from(this.#buf.subarray(bodyStart, bodyStart + this.#bodyLength));
    this.#start = bodyStart + this.#bodyLength;
    this.#state = 'head';
    this.#head = undefined;
    if (head.error !== undefined) {
      events.push({ type: 'error', error: head.error, fatal: false });
      return true;
    }
    let message: SipRequest | SipResponse | undefined;
    try {
      message = finishMessage(head, body, []);
      if (this.#validateOn) validateMessage(message, this.#validate);
      events.push({ type: 'message', message });
    } catch (error) {
      if (!(error instanceof SipParseError)) throw error;
      // A message that parsed but failed validation still comes along, to be answered.
      events.push(
        message === undefined
          ? { type: 'error', error, fatal: false }
          : { type: 'error', error, fatal: false, message },
      );
    }
    return true;
  }

  /** A complete first line that is neither a Request-Line nor a Status-Line shape. */
  #firstLineIsGarbage(): boolean {
    const lineEnd = this.#buf.subarray(0, this.#end).indexOf('\r\n', this.#start);
    const limit = lineEnd === -1 ? this.#end : lineEnd;
    if (lineEnd === -1 && limit - this.#start < 32) return false;
    const line = this.#buf.toString('latin1', this.#start, Math.min(limit, this.#start + 512));
    if (/^SIP\/\d/i.test(line)) return false;
    const m = /^[A-Za-z0-9\-.!%*_+`'~]+ /.exec(line);
    if (m === null) return true;
    return lineEnd !== -1 && !/ SIP\/\d/i.test(line);
  }

  #fail(events: SipStreamEvent[], error: SipParseError): false {
    events.push({ type: 'error', error, fatal: true });
    return this.#stop();
  }

  #stop(): false {
    this.#state = 'failed';
    this.#buf = EMPTY;
    this.#start = this.#end = 0;
    return false;
  }

  #append(data: Buffer): void {
    const used = this.#end - this.#start;
    if (this.#end + data.length > this.#buf.length) {
      if (used + data.length <= this.#buf.length) {
        this.#buf.copy(this.#buf, 0, this.#start, this.#end);
      } else {
        const bigger = Buffer.allocUnsafe(Math.max(used + data.length, this.#buf.length * 2, 4096));
        this.#buf.copy(bigger, 0, this.#start, this.#end);
        this.#buf = bigger;
      }
      this.#start = 0;
      this.#end = used;
    }
    data.copy(this.#buf, this.#end);
    this.#end += data.length;
  }
}
