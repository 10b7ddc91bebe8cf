/**
 * Writing a message: start line, the header lines in their order with the names they
 * have, a Content-Length that is always the body's length (the first Content-Length
 * line keeps its place and spelling, others are dropped, one is appended when there
 * was none), the empty line and the body octets.
 */
import { isToken } from './lexer.js';
import type { SipRequest, SipResponse } from './sip-message.js';

export function serialize(message: SipRequest | SipResponse): Buffer {
  let head = startLine(message);
  const bodyLength = message.body.length;
  let wroteLength = false;
  for (const line of message.headers.lines()) {
    if (line.key === 'content-length') {
      if (!wroteLength) head += `${line.name}: ${bodyLength}\r\n`;
      wroteLength = true;
    } else {
      head += line.value === '' ? `${line.name}:\r\n` : `${line.name}: ${line.value}\r\n`;
    }
  }
  if (!wroteLength) head += `Content-Length: ${bodyLength}\r\n`;
  head += '\r\n';
  const headLength = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLength + bodyLength);
  out.write(head, 0, 'utf8');
  message.body.copy(out, headLength);
  return out;
}

function startLine(message: SipRequest | SipResponse): string {
  if (message.type === 'request') {
    if (!isToken(message.method))
      throw new TypeError(`bad method ${JSON.stringify(message.method)}`);
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+$/.test(message.requestUri)) {
      throw new TypeError(`bad Request-URI ${JSON.stringify(message.requestUri)}`);
    }
    return `${message.method} ${message.requestUri} SIP/2.0\r\n`;
  }
  if (!Number.isInteger(message.status) || message.status < 100 || message.status > 699) {
    throw new TypeError(`bad status ${message.status}`);
  }
  for (let i = 0; i < message.reason.length; i++) {
    const c = message.reason.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f)
      throw new TypeError('a Reason-Phrase cannot contain control characters');
  }
  return `SIP/2.0 ${message.status} ${message.reason}\r\n`;
}
